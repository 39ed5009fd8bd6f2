"""The HTML primitives of every report: escaping, tables, embedded figures and the page itself
(inline style, one hashed inline script, a strict Content-Security-Policy).

Every piece of text from an instance or a result file goes through :func:`esc`
(:func:`html.escape`): an instance is data, never markup.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.figure import Figure

from csu_opt.numbers import money

CHECK_SCRIPT = """
(function () {
  var errors = 0;
  window.addEventListener("error", function () { errors += 1; });
  document.addEventListener("securitypolicyviolation", function () { errors += 1; });
  window.addEventListener("load", function () {
    var imgs = document.images, ok = 0;
    for (var i = 0; i < imgs.length; i++) {
      if (imgs[i].complete && imgs[i].naturalWidth > 0) { ok += 1; }
    }
    var body = document.body;
    body.setAttribute("data-figures", ok + "/" + imgs.length);
    body.setAttribute("data-script-errors", String(errors));
    body.setAttribute("data-figures-ok", ok === imgs.length && errors === 0 ? "yes" : "no");
  });
})();
"""

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f2f2f2; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .92em; color: #444; }
.warn { background: #fff4e0; border-left: 5px solid #E69F00; padding: .6em 1em; }
.ok { background: #e8f5ee; border-left: 5px solid #009E73; padding: .6em 1em; }
code, pre { background: #f6f6f6; padding: .1em .3em; } pre { padding: .6em; overflow-x: auto; }
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def png_base64(fig: Figure, dpi: int = 90) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def figure_html(fig: Figure, caption: str, name: str) -> str:
    return (
        f'<figure id="fig-{esc(name)}"><img alt="{esc(caption)}" '
        f'src="data:image/png;base64,{png_base64(fig)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


@dataclass(frozen=True)
class Shown:
    """A number already formatted (a gap, a headcount, seconds): right-aligned as is."""

    text: str


def table_html(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for v in row:
            if isinstance(v, float):
                cells.append(f'<td class="num">{money(v)}</td>')
            elif isinstance(v, int) and not isinstance(v, bool):
                cells.append(f'<td class="num">{v:,}</td>')
            elif isinstance(v, Shown):
                cells.append(f'<td class="num">{esc(v.text)}</td>')
            else:
                cells.append(f"<td>{esc('-' if v is None else v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def page(title: str, sections: list[str]) -> str:
    """The HTML document: inline style, one hashed inline script, a strict CSP."""
    digest = base64.b64encode(hashlib.sha256(CHECK_SCRIPT.encode()).digest()).decode()
    csp = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{digest}'"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
        + "\n".join(sections)
        + f"<script>{CHECK_SCRIPT}</script></body></html>\n"
    )

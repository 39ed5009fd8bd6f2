"""Generated instances and the published benchmarks as Instances (test_matrix, test_start,
test_concurrent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.readers import find_benchmark

from csu_opt.instance.generate import generate
from csu_opt.instance.load import Instance, instance_from_document


def generated(providers: int, ccgs: int, seed: int, **kw: Any) -> Instance:
    doc = generate(providers, ccgs, seed=seed, **kw)
    return instance_from_document(doc, Path(f"gen-{providers}x{ccgs}-{seed}.yaml"))


def benchmark(name: str) -> Instance:
    bench = find_benchmark(name)  # vendored in benchmarks/data: never skipped
    return instance_from_document(bench.document(), Path(f"{name}.yaml"))

"""``python -m csu_opt.cli``: the same command line as ``csu-opt``."""

from csu_opt.cli.main import main

main()

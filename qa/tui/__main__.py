"""`python -m qa.tui [--corpus DIR] [--index DIR]`: the same as `qa tui`."""

import sys

from qa.cli import main

raise SystemExit(main(["tui", *sys.argv[1:]]))

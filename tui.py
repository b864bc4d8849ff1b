"""Open the chat, `python tui.py [--corpus DIR] [--index DIR]`: the same as `qa tui` (the app lives in qa/tui/)."""

import sys

from qa.cli import main

raise SystemExit(main(["tui", *sys.argv[1:]]))

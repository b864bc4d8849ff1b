"""The chat: a Textual app over a qa index (`qa tui`, `python -m qa.tui`, or `python tui.py` in the checkout)."""

from qa.tui.app import QAApp, default_corpus, default_history, run

__all__ = ["QAApp", "default_corpus", "default_history", "run"]

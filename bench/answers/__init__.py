"""Answer and retrieval quality on the development sets."""

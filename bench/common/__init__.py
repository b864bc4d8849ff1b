"""Data sets, corpora and metrics shared by every bench script."""

"""One-off comparisons behind a choice made in qa."""

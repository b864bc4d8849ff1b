"""Month names as English news copy writes them: the one list behind every pattern that reads a date (answer
spans, article metadata, date phrases in questions). English on purpose: `calendar.month_name` follows the
process locale."""

from __future__ import annotations

NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
         "November", "December")
# "january" and "jan" -> 1, ..., "sept" -> 9: every written form, lowercased, to its month number
NUMBERS: dict[str, int] = ({name.lower(): n for n, name in enumerate(NAMES, 1)}
                           | {name[:3].lower(): n for n, name in enumerate(NAMES, 1)} | {"sept": 9})
# a regex alternation of those forms as capitalised in prose ("September|...|Sept|May|Jan|..."), longest first;
# with re.IGNORECASE it reads any case
WORDS = "|".join(sorted((w.capitalize() for w in NUMBERS), key=len, reverse=True))
# the abbreviations only ("Sept|Jan|...|Dec"), longest first: to require the period that marks one in prose
ABBREVIATIONS = "|".join(w for w in WORDS.split("|") if w not in NAMES)

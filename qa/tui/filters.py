"""The chat's filters, typed inline: `since:2025-04 source:bbc who said it?` answers only from those articles.

Tokens stay in force for the questions after (the chat shows them above the question box) until another
token replaces them or `filters:off` clears them all; a line of tokens only sets them without asking.

    since:DATE   until:DATE   (a year, month or day: 2025, 2025-04, 2025-04-12)
    source:NAME  (an outlet or a corpus sub-folder; repeat it for several)
    undated:drop / undated:keep   filters:off
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

HELP = "since:2025-04 source:bbc in a question: only those articles from then on; filters:off"
_TOKEN = re.compile(r"(?<!\S)(since|until|source|undated|filters):(\S+)", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass(frozen=True)
class ChatFilters:
    """The filters in force in the chat, as `QA.ask` takes them."""

    since: str | None = None
    until: str | None = None
    sources: tuple[str, ...] = field(default_factory=tuple)
    undated: str = "keep"

    def __bool__(self) -> bool:
        return bool(self.since or self.until or self.sources)

    def arguments(self) -> dict[str, object]:
        """Keyword arguments for `QA.ask`."""
        return {"since": self.since, "until": self.until, "sources": list(self.sources) or None,
                "undated": self.undated}

    def describe(self) -> str:
        """"Filters: since 2025-04, source bbc (filters:off clears them)", or "" when none is set."""
        parts = [f"since {self.since}"] * bool(self.since) + [f"until {self.until}"] * bool(self.until)
        if self.sources:
            parts.append("source " + " or ".join(self.sources))
        if self.undated == "drop" and (self.since or self.until):
            parts.append("dated articles only")
        return f"Filters: {', '.join(parts)}  (filters:off clears them)" if parts else ""

    def read(self, line: str) -> tuple[str, ChatFilters]:
        """The question of a line, less its tokens, and the filters once its tokens apply.

        Raises:
            ValueError: a token qa cannot use, with a message for the user.
        """
        filters = self
        sources: list[str] | None = None  # None: the line names no source, those in force stay
        for match in _TOKEN.finditer(line):
            name, value = match.group(1).lower(), match.group(2)
            if name in ("since", "until"):
                if not _DATE.match(value):
                    raise ValueError(f"{name}:{value} is not a date: write {name}:2025, {name}:2025-04 or {name}:2025-04-12")
                filters = replace(filters, since=value) if name == "since" else replace(filters, until=value)
            elif name == "source":
                sources = [*(sources or []), value]
            elif name == "undated":
                if value.lower() not in ("keep", "drop"):
                    raise ValueError(f"undated:{value}: write undated:keep or undated:drop")
                filters = replace(filters, undated=value.lower())
            elif value.lower() == "off":
                filters, sources = ChatFilters(), None
            else:
                raise ValueError(f"filters:{value}: only filters:off clears them")
        if sources is not None:
            filters = replace(filters, sources=tuple(sources))
        return " ".join(_TOKEN.sub(" ", line).split()), filters

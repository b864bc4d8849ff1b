"""What the chat copies and saves: a quote with its citation, and the conversation as Markdown and JSON.

Plain functions over `qa` models, so the copied and saved text can be checked without a terminal. The
Markdown is for a person (a journalist's notes); the JSON is every Answer exactly as `qa ask --json` prints it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import qa


def quote_with_citation(answer: qa.Answer, article: qa.Article | None = None) -> str:
    """The quoted sentence and where it comes from, ready to paste into a story or notes.

    Returns:
        Two lines: “sentence” then "— title, source, date, url (id, characters start-end)"; or the
        answer's message when it found nothing.
    """
    if not answer.found or answer.citation is None or answer.sentence is None:
        return answer.message
    c = answer.citation
    authors = ", ".join(article.authors) if article and article.authors else None
    parts = [p for p in (c.title, authors, c.source, c.date, c.url) if p]
    return f"“{answer.sentence}”\n— {', '.join(parts)} ({c.doc_id}, characters {c.start}-{c.end})"


def session_markdown(answers: Sequence[qa.Answer], articles: dict[str, qa.Article], *, corpus: str, index: str,
                     when: datetime | None = None) -> str:
    """The conversation as Markdown: each question, its quote with citation and what else states it."""
    when = when or datetime.now()
    lines = [f"# qa session, {when:%Y-%m-%d %H:%M}", "", f"Index `{index}`, corpus `{corpus}`.", ""]
    for answer in answers:
        lines += [f"## {answer.question}", ""]
        if answer.resolved:
            lines += [f"*read as: {answer.resolved}*", ""]
        if not answer.found or answer.citation is None:
            lines += [f"*{answer.message}* (confidence {answer.confidence:.2f})", ""]
            for p in answer.related[:3]:
                lines.append(f"- closest: {p.title} (`{p.doc_id}`, characters {p.start}-{p.end})")
            lines.append("")
            continue
        quote = quote_with_citation(answer, articles.get(answer.citation.doc_id)).splitlines()
        lines += [f"> {quote[0]}", ">", f"> {quote[1]}", ""]
        if answer.short_answer:
            lines.append(f"Answer: **{answer.short_answer.text}**, confidence {answer.confidence:.2f}")
        else:
            lines.append(f"Confidence {answer.confidence:.2f}")
        lines.append("")
        for other in answer.corroborating:
            article = articles.get(other.doc_id)
            said = f": “{article.text[other.start:other.end]}”" if article else ""
            lines.append(f"- also in {other.title} (`{other.doc_id}`, characters {other.start}-{other.end}){said}")
        if answer.corroborating:
            lines.append("")
        for account in answer.accounts:
            c = account.citation
            who = f" ({account.speaker})" if account.speaker else ""
            lines.append(f"- other account: **{account.value.text}**{who} in {c.title} (`{c.doc_id}`, characters "
                         f"{c.start}-{c.end}): “{account.sentence}”")
        if answer.accounts:
            lines.append("")
    return "\n".join(lines)


def session_json(answers: Sequence[qa.Answer]) -> str:
    """Every Answer of the conversation, in order, as a JSON list."""
    return json.dumps([a.model_dump(mode="json") for a in answers], indent=2, ensure_ascii=False)

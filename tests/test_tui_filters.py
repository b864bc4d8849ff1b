"""The chat's inline filters and typo corrections, driven with the pilot over the default index."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Label, Static

from qa.tui import QAApp
from qa.tui.widgets import HelpScreen

from tests.test_tui import SIZE, ask, paste, settle, shown

pytestmark = pytest.mark.anyio


async def test_inline_filters_apply_to_the_question_and_stay_shown_until_cleared(corpus_dir: Path, default_index: Path) -> None:
    async with QAApp(corpus_dir, default_index).run_test(size=SIZE) as pilot:
        label = pilot.app.query_one("#filters", Label)
        assert not label.display

        exchange = await ask(pilot, "since:2026 undated:drop who is Lin Jian?")
        assert exchange.question == "who is Lin Jian?"
        assert shown(exchange.query_one(".no-answer")).startswith("The filter (since 2026-01-01, dated articles only) left nothing")
        assert label.display and "since 2026" in str(label.content) and "filters:off" in str(label.content)

        exchange = await ask(pilot, "where were the soldiers captured?")  # still filtered
        assert "left nothing" in shown(exchange.query_one(".no-answer"))

        await paste(pilot, "filters:off")
        await pilot.press("enter")
        await settle(pilot)
        assert not label.display
        exchange = await ask(pilot, "how many Chinese nationals did Zelensky claim?")
        assert exchange.answer is not None and exchange.answer.found


async def test_a_filter_token_qa_cannot_read_is_refused_with_a_message(corpus_dir: Path, default_index: Path) -> None:
    async with QAApp(corpus_dir, default_index).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await paste(pilot, "since:April who is Lin Jian?")
        await pilot.press("enter")
        await settle(pilot)

        assert not pilot.app.query(".exchange")
        assert any("since:April is not a date" in str(n.message) for n in pilot.app._notifications)


async def test_the_help_says_how_to_filter(corpus_dir: Path, default_index: Path) -> None:
    async with QAApp(corpus_dir, default_index).run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        assert isinstance(pilot.app.screen, HelpScreen)
        assert "since:2025-04" in str(pilot.app.screen.query_one(".keys", Static).content.columns[1]._cells)


async def test_corrections_are_shown_above_the_answer(corpus_dir: Path, default_index: Path) -> None:
    async with QAApp(corpus_dir, default_index).run_test(size=SIZE) as pilot:
        exchange = await ask(pilot, "how mny chinese natinals did zelenksy claim")

        assert shown(exchange.query_one(".corrections", Static)) == (
            "read as: mny → many, natinals → nationals, zelenksy → zelensky")
        assert exchange.answer is not None and exchange.answer.found

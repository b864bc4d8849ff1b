"""The `qa` command, run in-process as a user would type it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import qa
from qa.cli import main


@pytest.mark.parametrize("command", [[], ["index"], ["ask"], ["search"], ["tui"]])
def test_every_command_explains_itself(command: list[str], capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])

    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "usage: qa" in text and len(text.splitlines()) > 5


def test_ask_prints_the_quote_and_its_citation(default_index: Path, capsys: pytest.CaptureFixture[str]):
    code = main(["ask", "how many Chinese nationals did Zelensky claim?", "--index", str(default_index)])

    out = capsys.readouterr().out
    assert code == 0
    assert "155" in out and "confidence" in out and "citation" in out


def test_ask_json_parses_into_an_answer(default_index: Path, capsys: pytest.CaptureFixture[str]):
    code = main(["ask", "Who is the spokesperson of China's foreign ministry?", "--index", str(default_index), "--json"])

    answer = qa.Answer.model_validate_json(capsys.readouterr().out)
    assert code == 0 and answer.found and answer.short_answer.text == "Lin Jian"


def test_ask_says_plainly_when_there_is_no_answer(default_index: Path, capsys: pytest.CaptureFixture[str]):
    code = main(["ask", "Who is the prime minister of Japan?", "--index", str(default_index)])

    assert code == 0
    assert "no answer" in capsys.readouterr().out


def test_search_lists_passages(default_index: Path, capsys: pytest.CaptureFixture[str]):
    code = main(["search", "motorcycles for the Russian military", "-k", "3", "--index", str(default_index), "--json"])

    passages = json.loads(capsys.readouterr().out)
    assert code == 0 and len(passages) == 3
    assert "motorcycle" in passages[0]["text"]


def test_index_prints_a_one_line_summary(small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    code = main(["index", str(small_corpus), "--index", str(tmp_path / "index")])

    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert out[-1].startswith("5 added, 0 updated, 0 removed")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", "   "], "question is empty"),
        (["ask", "who?", "--index", "/nonexistent/index"], "no index in /nonexistent/index"),
        (["index", "/nonexistent/corpus", "--index", "/tmp/qa-never"], "/nonexistent/corpus"),
        (["index", str(Path(__file__).parent / "data" / "only_bad"), "--index", "/tmp/qa-never"], "bad.jsonl:1"),
    ],
)
def test_bad_input_is_one_clear_line_and_a_nonzero_exit(
    argv: list[str], message: str, default_index: Path, capsys: pytest.CaptureFixture[str]
):
    if "--index" not in argv:
        argv = [*argv, "--index", str(default_index)]
    code = main(argv)

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("qa: error:") and message in err
    assert "Traceback" not in err

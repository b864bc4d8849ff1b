"""The `qa` command, run in-process as a user would type it, and as a process where a terminal or a pipe matters."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import qa
from qa.cli import main

ZELENSKY = "how many Chinese nationals did Zelensky claim?"
JAPAN = "Who is the prime minister of Japan?"
COMMANDS = [[], ["index"], ["ask"], ["search"], ["list"], ["show"], ["tui"], ["completion"]]


def qa_process(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess[str]:
    """`qa ARGS` as a separate process, the way a shell runs it."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "QA_INDEX")} | (env or {})
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True, timeout=120,
                          env=full_env, **kwargs)


def on_a_terminal(*args: str, env: dict[str, str]) -> str:
    """What `qa ARGS` writes when its stdout is a terminal (a pseudo-terminal here)."""
    leader, follower = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "QA_INDEX")} | env
    process = subprocess.Popen([sys.executable, "-m", "qa.cli", *args], stdout=follower, stderr=subprocess.DEVNULL,
                               env=full_env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=120)
    os.close(leader)
    return b"".join(chunks).decode()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself_and_its_exit_status(command: list[str], capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])

    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "usage: qa" in text and len(text.splitlines()) > 5
    assert "0 answered" in text and "1 no answer" in text and "2 bad usage" in text
    assert "$QA_INDEX" in text


def test_version(capsys: pytest.CaptureFixture[str]):
    import importlib.metadata

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])

    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"qa {qa.__version__}"
    assert importlib.metadata.version("qa") == qa.__version__


def test_ask_prints_the_quote_its_citation_and_how_to_check_it(default_index: Path, capsys: pytest.CaptureFixture[str]):
    code = main(["ask", ZELENSKY, "--index", str(default_index)])

    out = capsys.readouterr().out
    assert code == 0
    assert "155" in out and "confidence" in out
    assert "characters 0-154 of its cleaned text (qa show 001_0b0befd10767e2d2 --range 0:154)" in out
    assert "\x1b" not in out  # not a terminal: no colour


def test_also_in_quotes_the_corroborating_sentence(bot: qa.QA, default_index: Path, capsys: pytest.CaptureFixture[str]):
    answer = bot.ask(ZELENSKY)
    assert answer.corroborating

    main(["ask", ZELENSKY, "--index", str(default_index)])

    out = capsys.readouterr().out
    for other in answer.corroborating:
        assert f"“{bot.article(other.doc_id).text[other.start:other.end]}”" in out


def test_other_accounts_are_printed_under_the_answer_and_in_the_json(default_index: Path,
                                                                     capsys: pytest.CaptureFixture[str]):
    question = "How many Chinese nationals are fighting for Russia?"
    main(["ask", question, "--index", str(default_index)])
    out = capsys.readouterr().out
    answer_part, accounts_part = out.split("\nOther accounts:\n")
    assert "155" in answer_part
    assert accounts_part.startswith("  51 (Russian media identified): 51 Chinese nationals reportedly join")
    assert "“Russian media have identified 51 Chinese nationals" in accounts_part

    main(["ask", question, "--index", str(default_index), "--json"])
    [account] = json.loads(capsys.readouterr().out)["accounts"]
    assert account["value"]["text"] == "51" and account["speaker"]["name"] == "Russian media"


def test_an_unquoted_question_is_one_question(default_index: Path, capsys: pytest.CaptureFixture[str]):
    code = main(["ask", "Who", "is", "the", "spokesperson", "of", "China's", "foreign", "ministry", "--index",
                 str(default_index), "--json"])

    answer = qa.Answer.model_validate_json(capsys.readouterr().out)
    assert code == 0 and answer.question == "Who is the spokesperson of China's foreign ministry"
    assert answer.found and answer.short_answer.text == "Lin Jian"


def test_no_answer_says_so_and_exits_1(default_index: Path, capsys: pytest.CaptureFixture[str]):
    code = main(["ask", JAPAN, "--index", str(default_index)])

    assert code == 1
    assert "no answer" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", "   "], "question is empty"),
        (["ask", "who?", "--index", "/nonexistent/index"], "no index in /nonexistent/index"),
        (["index", "/nonexistent/corpus", "--index", "/tmp/qa-never"], "/nonexistent/corpus"),
        (["index", str(Path(__file__).parent / "data" / "only_bad"), "--index", "/tmp/qa-never"], "bad.jsonl:1"),
        (["show", "no-such-article"], "no article 'no-such-article'"),
        (["ask", "who?", "--top", "0"], "--top must be at least 1"),
        (["ask"], "type a question"),
        (["show", "001_0b0befd10767e2d2", "--range", "10:5"], "--range wants START:END"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(
    argv: list[str], message: str, default_index: Path, capsys: pytest.CaptureFixture[str]
):
    if "--index" not in argv:
        argv = [*argv, "--index", str(default_index)]
    code = main(argv)

    err = capsys.readouterr().err
    assert code == 2
    assert "error:" in err and message in err
    assert "Traceback" not in err


def test_a_usage_mistake_exits_2(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_:
        main(["ask", "who?", "--no-such-option"])
    assert exit_.value.code == 2


def test_the_index_folder_comes_from_qa_index_when_not_given(
    default_index: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.chdir(tmp_path)  # no ./index here
    monkeypatch.setenv("QA_INDEX", str(default_index))

    assert main(["ask", ZELENSKY]) == 0
    assert "155" in capsys.readouterr().out


def test_search_lists_passages(default_index: Path, capsys: pytest.CaptureFixture[str]):
    code = main(["search", "motorcycles for the Russian military", "-k", "3", "--index", str(default_index), "--json"])

    passages = json.loads(capsys.readouterr().out)
    assert code == 0 and len(passages) == 3
    assert "motorcycle" in passages[0]["text"]


def test_search_shows_the_best_sentence_of_each_passage(bot: qa.QA, default_index: Path,
                                                       capsys: pytest.CaptureFixture[str]):
    main(["search", "Chinese", "soldiers", "captured", "-k", "2", "--index", str(default_index)])

    out = capsys.readouterr().out.splitlines()
    snippets = [line.strip() for line in out if line.startswith("   ")]
    assert len(snippets) == 2
    for line in snippets:
        sentence, where = line.rsplit("   (sentence ", 1)
        number = int(where.split(",")[0])
        passage_doc = out[out.index("   " + line) - 1].split("[")[1].split("#")[0]
        assert bot.sentences(passage_doc)[number].text == sentence
        assert "captur" in sentence.lower() or "soldier" in sentence.lower()


def test_index_prints_a_one_line_summary_and_no_bars_off_a_terminal(
    small_corpus: Path, default_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    index = tmp_path / "index"
    shutil.copytree(default_index, index)
    (small_corpus / "extra.txt").write_text("Extra article\n\nThe harbour reopened on Monday after the storm.\n")

    code = main(["index", str(small_corpus), "--index", str(index)])

    captured = capsys.readouterr()
    assert code == 0
    assert captured.out.strip().splitlines()[-1].startswith("1 added, 0 updated, 0 removed, 5 unchanged")
    assert "%|" not in captured.err and "\r" not in captured.err  # stderr is not a terminal: no tqdm bar
    assert "embedding sentences: " in captured.err  # but a plain line as each stage starts


def test_list_names_every_article(bot: qa.QA, default_index: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["list", "--index", str(default_index)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["id", "date", "source", "title"]
    assert [line.split()[0] for line in out[1:]] == [a.doc_id for a in bot.articles()]
    assert len(out) == 1 + bot.counts["articles"]

    assert main(["list", "--index", str(default_index), "--json"]) == 0
    listed = [qa.ArticleInfo.model_validate(a) for a in json.loads(capsys.readouterr().out)]
    assert {a.doc_id for a in listed} == {a.doc_id for a in bot.articles()}
    assert listed[0].date == "2025-04-12" and listed[0].chars == len(bot.article(listed[0].doc_id).text)


def test_show_marks_the_cited_range_and_sentence(bot: qa.QA, default_index: Path, capsys: pytest.CaptureFixture[str]):
    answer = bot.ask(ZELENSKY)
    c = answer.citation

    assert main(["show", c.doc_id, "--range", f"{c.start}:{c.end}", "--index", str(default_index)]) == 0
    out = capsys.readouterr().out
    assert f"**{answer.sentence}**" in out
    assert out.replace("**", "").rstrip("\n").endswith(bot.article(c.doc_id).text)

    third = bot.sentences(c.doc_id)[2]
    assert main(["show", c.doc_id, "--sentence", "2", "--index", str(default_index)]) == 0
    assert f"**{third.text}**" in capsys.readouterr().out

    assert main(["show", c.doc_id, "--sentences", "--index", str(default_index)]) == 0
    assert f"[2] {third.start}-{third.end}  {third.text}" in capsys.readouterr().out.splitlines()


def test_top_gives_answers_from_different_articles(default_index: Path, capsys: pytest.CaptureFixture[str]):
    code = main(["ask", "who captured two Chinese soldiers?", "--top", "3", "--index", str(default_index)])

    out = capsys.readouterr().out
    cited = [line.split("citation:")[1].split()[0] for line in out.splitlines() if "citation:" in line]
    assert code == 0
    assert len(cited) >= 2 and len(set(cited)) == len(cited)


def test_a_file_of_questions_gives_one_json_line_each(default_index: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]):
    questions = tmp_path / "questions.txt"
    questions.write_text(f"{ZELENSKY}\n\n{JAPAN}\nWho is the spokesperson of China's foreign ministry?\n")

    code = main(["ask", "--file", str(questions), "--jsonl", "--index", str(default_index)])

    answers = [qa.Answer.model_validate_json(line) for line in capsys.readouterr().out.splitlines()]
    assert [a.question for a in answers] == [ZELENSKY, JAPAN, "Who is the spokesperson of China's foreign ministry?"]
    assert [a.found for a in answers] == [True, False, True]
    assert code == 1  # one of them has no answer


def test_completion_scripts_name_the_commands(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    for command in ("index", "ask", "search", "list", "show", "tui", "--top", "--index"):
        assert command in script
    (tmp_path / "qa.bash").write_text(script)
    assert subprocess.run(["bash", "-n", str(tmp_path / "qa.bash")]).returncode == 0

    assert main(["completion", "zsh"]) == 0
    assert "#compdef qa" in capsys.readouterr().out


def test_terminal_escapes_from_the_corpus_are_shown_not_obeyed(
    small_corpus: Path, default_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    index = tmp_path / "index"
    shutil.copytree(default_index, index)
    record = {"id": "\x1b[31mred\x1b[0m", "title": "Harbour \x1b]0;pwned\x07news",
              "text": "The harbour of Varnet reopened on Monday after the storm.\x00 Ships queued."}
    (small_corpus / "wire.jsonl").write_text(json.dumps(record) + "\n")
    assert main(["index", str(small_corpus), "--index", str(index)]) == 0
    capsys.readouterr()

    for argv in (["ask", "when did the harbour of Varnet reopen?"], ["list"], ["search", "harbour", "Varnet"],
                 ["show", record["id"]]):
        main([*argv, "--index", str(index)])
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\x00" not in out and "\x07" not in out, argv
        assert "\\x1b[31mred" in out, argv

    main(["ask", "when did the harbour of Varnet reopen?", "--index", str(index), "--json"])
    answer = qa.Answer.model_validate_json(capsys.readouterr().out)
    assert answer.citation.doc_id == record["id"] and answer.citation.title == record["title"]  # JSON stays exact


# --- as a process: terminals, pipes, stdin ---------------------------------------------------------


def test_a_question_read_from_stdin(default_index: Path):
    done = qa_process("ask", "-", "--index", str(default_index), input=f"{ZELENSKY}\n")

    assert done.returncode == 0, done.stderr
    assert "at least 155" in done.stdout


@pytest.mark.parametrize("no_color", [False, True])
def test_colour_on_a_terminal_unless_no_color(default_index: Path, no_color: bool):
    out = on_a_terminal("ask", ZELENSKY, "--index", str(default_index), env={"NO_COLOR": "1"} if no_color else {})

    assert "at least 155" in out
    if no_color:
        assert "\x1b[1;33m" not in out and "\x1b[1mat least 155\x1b[0m" in out  # bold, never colour
    else:
        assert "\x1b[1;33mat least 155\x1b[0m" in out


def test_a_reader_that_closes_the_pipe_is_not_an_error(default_index: Path):
    # the reader is gone before qa writes its first byte, as with `qa ask ... | head -0`
    process = subprocess.Popen([sys.executable, "-m", "qa.cli", "ask", ZELENSKY, "--top", "3", "--index",
                                str(default_index)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err

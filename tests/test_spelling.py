"""Typos in questions, corrected against the vocabulary the index keeps of its own articles."""

from __future__ import annotations

import json
from pathlib import Path

import qa
from qa import store
from qa.spelling import Vocabulary, word_counts


def test_a_question_full_of_typos_is_answered_and_says_what_was_corrected(bot: qa.QA):
    answer = bot.ask("how mny chinese natinals did zelenksy claim")

    assert answer.found and answer.short_answer.text == "at least 155"
    assert answer.question == "how mny chinese natinals did zelenksy claim"
    assert [(c.word, c.replacement) for c in answer.corrections] == [
        ("mny", "many"), ("natinals", "nationals"), ("zelenksy", "zelensky")]
    assert all(answer.question[c.start:c.end] == c.word for c in answer.corrections)


def test_the_corrected_question_is_read_as_the_well_typed_one(bot: qa.QA):
    typed = bot.ask("who is the spokesman for chinas foriegn minstry")
    clean = bot.ask("who is the spokesman for chinas foreign ministry")

    assert [(c.word, c.replacement) for c in typed.corrections] == [("foriegn", "foreign"), ("minstry", "ministry")]
    assert (typed.found, typed.confidence, typed.sentence) == (clean.found, clean.confidence, clean.sentence)
    assert typed.found and typed.short_answer is not None and typed.short_answer.text == "Lin Jian"


def test_names_are_corrected_and_keep_their_capitals(bot: qa.QA):
    answer = bot.ask("What did Zelenksy say about Beijign?")

    assert [(c.word, c.replacement) for c in answer.corrections] == [("Zelenksy", "Zelensky"), ("Beijign", "Beijing")]


def test_a_well_typed_question_is_not_touched(bot: qa.QA):
    for question in ("how many Chinese nationals did Zelensky claim?",
                     "who is the spokesperson of China's foreign ministry",
                     "What did China say about the claims?"):
        assert bot.ask(question).corrections == []


def test_correction_can_be_turned_off(bot: qa.QA):
    answer = bot.ask("how mny chinese natinals did zelenksy claim", correct_typos=False)

    assert answer.corrections == []


def test_the_vocabulary_is_an_index_file_with_its_checksum(tmp_path: Path, small_corpus: Path):
    index = tmp_path / "index"
    qa.build_index(small_corpus, index)
    manifest = store.read_manifest(index)
    name = f"{manifest.generation}/{store.VOCABULARY}"

    assert name in manifest.files and qa.verify_index(index).ok
    path = index / name
    path.write_text(path.read_text(encoding="utf-8").replace('"zelensky":', '"zelenskx":'), encoding="utf-8")
    assert [d.split(":")[0] for d in qa.verify_index(index).damaged] == [name]


def test_an_incremental_build_updates_the_vocabulary(tmp_path: Path, small_corpus: Path):
    index = tmp_path / "index"
    qa.build_index(small_corpus, index)
    (small_corpus / "glacier.txt").write_text(
        "Glaciers in the Alps shrink\n\nThe Rhone glacier lost 4 percent of its volume in 2022.\n", encoding="utf-8")
    (small_corpus / "003_a7d3e74dcfafbf5a.txt").unlink()  # the only article that says "Istanbul"
    before = _words(index)
    qa.build_index(small_corpus, index)
    after = _words(index)

    assert "rhone" not in before and after["rhone"] == 1
    assert "istanbul" in before and "istanbul" not in after
    rebuilt = tmp_path / "rebuilt"
    qa.build_index(small_corpus, rebuilt)
    assert _words(rebuilt) == after
    with qa.open_index(index) as bot:
        assert [(c.word, c.replacement) for c in bot.ask("how much did the Rhoen glacier lose?").corrections] == [
            ("Rhoen", "Rhone")]


def test_the_vocabulary_corrects_with_the_fewest_edits_then_the_most_used_word():
    vocabulary = Vocabulary({"ministry": 3, "minister": 9, "zelensky": 5, "beijing": 2})

    assert vocabulary.correct("who is the minstry spokesman") == (
        "who is the ministry spokesman", [qa.Correction(word="minstry", replacement="ministry", start=11, end=18)])
    assert vocabulary.correct("ZELENKSY")[0] == "ZELENSKY"
    assert vocabulary.correct("what did Xi say")[1] == []  # too short to correct, and no near word


def _words(index: Path) -> dict[str, int]:
    manifest = store.read_manifest(index)
    return json.loads((index / manifest.generation / store.VOCABULARY).read_text(encoding="utf-8"))["words"]


def test_the_cli_prints_what_it_corrected(default_index: Path, capsys):
    from qa.cli import main

    assert main(["ask", "how mny chinese natinals did zelenksy claim", "--index", str(default_index)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("(read as: mny → many, natinals → nationals, zelenksy → zelensky)\n“Ukrainian President")
    assert main(["ask", "how mny chinese natinals did zelenksy claim", "--no-correct", "--index", str(default_index)]) == 1
    assert "read as" not in capsys.readouterr().out


def test_among_words_as_near_the_one_that_fits_the_question_wins():
    from qa.lexical import LexicalIndex, tokenize

    texts = ["The Henry Cole Wing houses the prints collection.", "They win and win again.", "A win at home."]
    vocabulary = Vocabulary(dict(word_counts(texts)))
    index = LexicalIndex.build([1, 2, 3], tokenize(texts))
    question = "What does the Henry Cole Wign house?"

    assert vocabulary.correct(question)[0] == "What does the Henry Cole Win house?"  # the more frequent word
    assert vocabulary.correct(question, support=index.cooccurrence)[0] == "What does the Henry Cole Wing house?"

"""Disagreeing accounts: another article's different value for what was asked, with who says so."""

from __future__ import annotations

import pytest

import qa
from qa.accounts import normalised, same_value
from qa.attribution import speaker_of


def test_the_fighters_question_carries_the_51_russian_media_identified(bot: qa.QA):
    answer = bot.ask("How many Chinese nationals are fighting for Russia?")

    assert answer.found and "155" in answer.short_answer.text
    assert answer.corroborating, "the 155 of the other articles still corroborates"
    assert all("155" in bot.article(c.doc_id).text[c.start:c.end] for c in answer.corroborating)
    [account] = [a for a in answer.accounts if a.value.text == "51"]
    assert account.citation.doc_id.startswith("000")
    assert bot.article(account.citation.doc_id).text[account.citation.start:account.citation.end] == account.sentence
    assert account.sentence[account.value.start:account.value.end] == "51"
    assert account.citation.date == "2025-04-12"
    assert str(account.speaker) == "Russian media identified"
    assert account.sentence[account.speaker.start:account.speaker.end] == "Russian media"
    cited = {answer.citation.doc_id, *(c.doc_id for c in answer.corroborating)}
    assert account.citation.doc_id not in cited


def test_a_value_the_answers_own_article_also_states_is_not_another_account(bot: qa.QA):
    # "two Chinese nationals" captured (003) is another fact of the story: 001 reports the two captured too
    answer = bot.ask("How many Chinese nationals are fighting for Russia?")

    assert all(not same_value(normalised(a.value.text, "count"), ("2",)) for a in answer.accounts)


def test_an_answer_every_article_agrees_on_has_no_accounts(bot: qa.QA):
    answer = bot.ask("Who is the spokesperson of China's foreign ministry?")

    assert answer.found and answer.short_answer.text == "Lin Jian"
    assert answer.accounts == []


def test_accounts_are_in_the_json(bot: qa.QA):
    answer = bot.ask("How many Chinese nationals are fighting for Russia?")

    again = qa.Answer.model_validate_json(answer.model_dump_json())
    assert again.accounts == answer.accounts
    assert "accounts=1" in repr(answer)


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [("at least 155", "count", ("155",)), ("Forty-one", "count", ("41",)), ("1.5 million", "count", ("1500000",)),
     ("between 60,000 and 100,000", "count", ("60000", "100000")), ("two hundred", "count", ("200",)),
     ("three weeks", "duration", ("3", "week")), ("Lin Jian", "name", ("lin", "jian"))],
)
def test_values_are_compared_after_normalisation(text: str, kind: str, value: tuple[str, ...]):
    assert normalised(text, kind) == value


def test_same_value_allows_a_shorter_name_but_not_another_number():
    assert same_value(("jian",), ("lin", "jian"))
    assert same_value(("july", "4"), ("july", "4", "2022"))
    assert not same_value(("155",), ("51",))
    assert not same_value(("2",), ("20",))


@pytest.mark.parametrize(
    ("sentence", "speaker"),
    [
        ("Russian media have identified 51 Chinese nationals.", "Russian media identified"),
        ("Ukrainian President Volodymyr Zelensky has claimed that at least 155 are fighting.",
         "Ukrainian President Volodymyr Zelensky claimed"),
        ("The Russian news service TASS reports that stateless individuals may enlist.", "Russian news service TASS reports"),
        ("“We are neutral,” said foreign ministry spokesperson Lin Jian.", "foreign ministry spokesperson Lin Jian said"),
        ("According to Zelensky, these recruits train in Moscow.", "according to Zelensky"),
        ("The company said on Tuesday its profit rose 5 pct.", "company said"),
        ("Ukraine's military said in April that it had captured two of them.", "Ukraine's military said"),
    ],
)
def test_speakers_come_from_the_reporting_verb_and_the_name_beside_it(sentence: str, speaker: str):
    found = speaker_of(sentence)
    assert found is not None and str(found) == speaker
    assert sentence[found.start:found.end] == found.name


@pytest.mark.parametrize("sentence", ["He added that Ukraine was trying to assess.", "They said so.",
                                      "Two Chinese individuals were taken prisoner."])
def test_a_pronoun_or_no_reporting_verb_names_no_speaker(sentence: str):
    assert speaker_of(sentence) is None

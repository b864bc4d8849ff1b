"""Follow-up questions in a conversation: read against the earlier turns, answered from the right sentence."""

from __future__ import annotations

import qa
from qa.conversation import Conversation


def test_a_follow_up_about_china_is_answered_from_lin_jians_rebuttal(bot: qa.QA):
    chat = bot.conversation()
    chat.ask("How many Chinese nationals did Zelensky claim?")

    answer = chat.ask("what did China say about it?")

    assert answer.question == "what did China say about it?"
    assert answer.resolved is not None and "Chinese nationals" in answer.resolved
    assert answer.found
    assert "Lin Jian rubbished" in answer.sentence
    assert bot.article(answer.citation.doc_id).text[answer.citation.start:answer.citation.end] == answer.sentence


def test_and_how_many_were_killed_borrows_the_counted_noun(bot: qa.QA):
    chat = bot.conversation()
    chat.ask("How many Chinese nationals are fighting for Russia?")

    answer = chat.ask("and how many were killed?")

    assert answer.resolved == "how many Chinese nationals were killed?"
    assert answer.found and answer.citation.doc_id.startswith("000")
    assert "Rui Zhao, was killed" in answer.sentence
    assert "Chinese" not in bot.ask("and how many were killed?").sentence  # without the thread: Russia's losses


def test_he_is_the_person_the_previous_answer_named(bot: qa.QA):
    chat = bot.conversation()
    first = chat.ask("Who is the spokesperson of China's foreign ministry?")
    assert first.short_answer.text == "Lin Jian"

    answer = chat.ask("what did he say about the claims?")

    assert answer.resolved == "what did Lin Jian say about the claims?"
    assert answer.found and "Lin Jian" in answer.sentence


def test_what_about_puts_the_new_name_in_the_previous_question(bot: qa.QA):
    chat = bot.conversation()
    chat.ask("What did the U.S. call the reports?")

    assert chat.ask("what about China?").resolved == "What did China call the reports?"


def test_a_question_that_stands_alone_is_asked_as_it_is_and_new_forgets_the_thread(bot: qa.QA):
    chat = bot.conversation()
    chat.ask("How many Chinese nationals did Zelensky claim?")

    alone = chat.ask("Who is the spokesperson of China's foreign ministry?")
    assert alone.resolved is None
    assert alone == bot.ask("Who is the spokesperson of China's foreign ministry?")

    chat.new()
    assert chat.turns == []
    assert chat.ask("what did China say about it?").resolved is None
    assert isinstance(chat, Conversation) and repr(chat) == "<Conversation turns=1>"


def test_the_plain_china_question_finds_lin_jian_among_its_candidates(bot: qa.QA):
    # issue 12: "What did China say about the claims?" on its own is still declined (0.42 on this
    # commit: the sentences say "Lin Jian said", "China termed", never "China said"); retrieval does find
    # them, and in a thread ("what did China say about it?" above) the answer is Lin Jian's rebuttal
    answer = bot.ask("What did China say about the claims?")

    assert any("Lin Jian" in c.sentence for c in answer.candidates)

"""`qa serve`: real servers on free loopback ports, asked with a real HTTP client."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import qa
from qa.cli import main
from qa.serve import Limits, running

ZELENSKY = "how many Chinese nationals did Zelensky claim?"


def test_ask_over_http_quotes_the_155_sentence_with_a_citation_that_round_trips(default_index: Path):
    with running(default_index) as server, httpx.Client(base_url=server.url) as http:
        by_get = http.get("/ask", params={"q": ZELENSKY})
        by_post = http.post("/ask", json={"question": ZELENSKY})
        answer = qa.Answer.model_validate(by_get.json())
        article = qa.Article.model_validate(http.get(f"/articles/{answer.citation.doc_id}").json())

    assert by_get.status_code == by_post.status_code == 200
    assert by_post.json() == by_get.json()
    assert answer.found and answer.short_answer.text == "at least 155"
    assert article.text[answer.citation.start:answer.citation.end] == answer.sentence


def test_search_stats_health_and_docs(default_index: Path, bot: qa.QA):
    with running(default_index) as server, httpx.Client(base_url=server.url) as http:
        passages = http.get("/search", params={"q": "Chinese soldiers captured", "k": 3}).json()
        stats = http.get("/stats").json()
        health = http.get("/healthz")
        openapi = http.get("/openapi.json").json()

    assert [p["passage_id"] for p in passages] == [p.passage_id for p in bot.search("Chinese soldiers captured", k=3)]
    assert stats["generation"] == bot.generation and stats["articles"] == 5 and stats["sentences"] == bot.counts["sentences"]
    assert stats["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert health.status_code == 200 and health.json()["generation"] == bot.generation
    assert {"/ask", "/search", "/articles/{doc_id}", "/stats", "/healthz"} <= set(openapi["paths"])


def test_errors_are_json_with_a_fitting_status(default_index: Path):
    with running(default_index) as server, httpx.Client(base_url=server.url) as http:
        empty = http.post("/ask", json={"question": "   "})
        no_question = http.post("/ask", json={})
        unknown = http.get("/articles/no-such-article")
        bad_k = http.get("/search", params={"q": "Zelensky", "k": 0})
        no_route = http.get("/nowhere")

    assert empty.status_code == 400 and empty.json()["type"] == "EmptyQuestionError"
    assert "question is empty" in empty.json()["error"]
    assert no_question.status_code == 400 and "question" in no_question.json()["error"]
    assert unknown.status_code == 404 and "no-such-article" in unknown.json()["error"]
    assert bad_k.status_code == 400 and "k" in bad_k.json()["error"]
    assert no_route.status_code == 404 and no_route.json()["error"] == "Not Found"


def test_503_until_an_index_is_built_then_it_is_served(corpus_dir: Path, tmp_path: Path):
    index = tmp_path / "index"
    with running(index, reload_every=0.1) as server, httpx.Client(base_url=server.url) as http:
        before = http.get("/ask", params={"q": ZELENSKY})
        health_before = http.get("/healthz").status_code
        qa.build_index(corpus_dir, index)
        _wait_until(lambda: http.get("/healthz").status_code == 200)
        after = http.get("/ask", params={"q": ZELENSKY})

    assert before.status_code == 503 and health_before == 503
    assert before.json()["type"] == "IndexNotFoundError" and "qa index" in before.json()["error"]
    assert after.status_code == 200 and after.json()["short_answer"]["text"] == "at least 155"


def test_a_token_is_required_of_every_request_but_healthz(default_index: Path):
    with running(default_index, token="s3cret-token") as server, httpx.Client(base_url=server.url) as http:
        missing = http.get("/ask", params={"q": ZELENSKY})
        wrong = http.get("/ask", params={"q": ZELENSKY}, headers={"Authorization": "Bearer s3cret-tokeN"})
        docs = http.get("/openapi.json")
        health = http.get("/healthz")
        right = http.get("/ask", params={"q": ZELENSKY}, headers={"Authorization": "Bearer s3cret-token"})

    assert missing.status_code == wrong.status_code == docs.status_code == 401
    assert "Bearer" in missing.json()["error"]
    assert health.status_code == 200
    assert right.status_code == 200 and right.json()["found"]


def test_binding_beyond_loopback_without_a_token_is_refused_before_any_socket_opens(default_index: Path,
                                                                                    capsys: pytest.CaptureFixture[str]):
    with pytest.raises(ValueError, match="--token or QA_TOKEN"):
        with running(default_index, host="0.0.0.0"):
            pass
    code = main(["serve", "--index", str(default_index), "--host", "0.0.0.0", "--port", "1"])

    assert code == 2 and "QA_TOKEN" in capsys.readouterr().err


def test_questions_and_bodies_are_capped(default_index: Path):
    limits = Limits(max_question=200, max_body=1024)
    with running(default_index, limits=limits) as server, httpx.Client(base_url=server.url) as http:
        long_question = http.get("/ask", params={"q": "why " * 60})
        big_body = http.post("/ask", json={"question": ZELENSKY, "padding": "x" * 2000})
        streamed = http.post("/ask", content=(b"x" * 512 for _ in range(4)),
                             headers={"Content-Type": "application/json"})
        fine = http.post("/ask", json={"question": ZELENSKY})

    assert long_question.status_code == 400 and "at most 200" in long_question.json()["error"]
    assert big_body.status_code == 413 and streamed.status_code == 413  # told the length, and not told it
    assert "1024 bytes" in big_body.json()["error"]
    assert fine.status_code == 200


def test_a_request_past_its_deadline_gets_504(default_index: Path):
    with running(default_index, limits=Limits(timeout=0.5)) as server:
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as slow:  # sends 10 of the 40 bytes it announced
            slow.sendall(b"POST /ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 40\r\n\r\n{\"questio")
            started = time.monotonic()
            reply = _read_response(slow)
            waited = time.monotonic() - started
        with httpx.Client(base_url=server.url) as http:
            # the next request is served; a search, not an ask: an ask's first reading loads the reader, which
            # can take longer than the 0.5 s deadline itself on a busy 2-core machine
            after = http.get("/search", params={"q": ZELENSKY, "k": 3})

    assert reply.startswith("HTTP/1.1 504") and "longer than 0.5 s" in reply
    assert 0.4 < waited < 5
    assert after.status_code == 200 and any("155" in p["text"] for p in after.json())


def test_many_requests_at_once_get_the_answers_one_at_a_time_gives(default_index: Path, bot: qa.QA):
    questions = [ZELENSKY, "Who is the spokesperson of China's foreign ministry?",
                 "Where will Russian officials meet U.S. diplomats?",
                 "Which Chinese contract soldier was killed in the Zaporizhia region?"]
    expected = {q: bot.ask(q).sentence for q in questions}
    with running(default_index, limits=Limits(workers=4)) as server, httpx.Client(
        base_url=server.url, limits=httpx.Limits(max_connections=16)
    ) as http, ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(lambda i: http.get("/ask", params={"q": questions[i % 4]}), range(64)))

    assert [r.status_code for r in replies] == [200] * 64
    assert all(r.json()["sentence"] == expected[questions[i % 4]] for i, r in enumerate(replies))


def test_a_new_generation_is_served_without_failing_a_request_in_flight(small_corpus: Path, tmp_path: Path):
    index = tmp_path / "index"
    qa.build_index(small_corpus, index)
    first = qa.open_index(index)
    first_generation = first.generation
    first.close()
    replies: list[httpx.Response] = []
    stop = threading.Event()

    def keep_asking(http: httpx.Client) -> None:
        while not stop.is_set():
            replies.append(http.get("/ask", params={"q": ZELENSKY}))

    with running(index, reload_every=0.05) as server, httpx.Client(
        base_url=server.url, limits=httpx.Limits(max_connections=8)
    ) as http:
        askers = [threading.Thread(target=keep_asking, args=(http,)) for _ in range(4)]
        for t in askers:
            t.start()
        (small_corpus / "new.txt").write_text(
            "Glaciers in the Alps shrink\n\nThe Rhone glacier lost 4 percent of its volume in 2022. "
            "Swiss scientists measured the loss with drones.\n",
            encoding="utf-8",
        )
        qa.build_index(small_corpus, index)
        _wait_until(lambda: http.get("/stats").json()["generation"] != first_generation)
        time.sleep(0.3)  # requests keep coming on the new generation too
        stop.set()
        for t in askers:
            t.join()
        glacier = http.get("/ask", params={"q": "How much of its volume did the Rhone glacier lose in 2022?"})
        stats = http.get("/stats").json()

    assert len(replies) > 8
    assert [r.status_code for r in replies] == [200] * len(replies)
    assert all(r.json()["short_answer"]["text"] == "at least 155" for r in replies)
    assert stats["reloads"] == 1 and stats["articles"] == 6
    assert glacier.status_code == 200 and "4 percent" in glacier.json()["sentence"]


def _read_response(sock: socket.socket) -> str:
    """One whole HTTP/1.1 response: its head, then as many body bytes as its Content-Length says."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, f"the server closed the connection after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(body) < length:
        chunk = sock.recv(4096)
        assert chunk, "the server closed the connection mid-body"
        body += chunk
    return (head + b"\r\n\r\n" + body).decode()


def _wait_until(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the server did not get there in time"
        time.sleep(0.05)


def test_serve_explains_itself(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--help"])

    text = capsys.readouterr().out
    assert exit_.value.code == 0
    assert "127.0.0.1" in text and "QA_TOKEN" in text and "--store" in text and "$QA_INDEX" in text

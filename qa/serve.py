"""`qa serve`: the QA API over HTTP, for a team asking one archive at once.

    POST /ask {"question": ...}   GET /ask?q=...      the Answer, as `QA.ask` returns it
    GET /search?q=...&k=10                              the fused passages, as `QA.search`
    GET /articles/{doc_id}                              the Article, so any citation can be checked
    GET /healthz   GET /stats                           ready or not; counts, generation, model
    GET /docs      GET /openapi.json                    the OpenAPI description

FastAPI on uvicorn. Safe by default: it binds 127.0.0.1; beyond loopback it refuses to start without a
bearer token, which every request but /healthz must then carry (compared in constant time). Questions
and request bodies are capped, and every request has a deadline (504 past it). Errors are JSON,
`{"error": message, "type": name}`: 400 for a bad question, 404 for an unknown article, 503 while no index
can be read.

One open index serves every request (`QA` is thread-safe); at most `workers` answer at once. A watcher
polls the index for a newer generation and opens it beside the current one; requests then go to the new
one while those in flight finish on the old, which is closed after the last of them.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import anyio
import anyio.to_thread
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import qa

log = logging.getLogger("qa.serve")

T = TypeVar("T")

OPEN_PATHS = ("/healthz",)  # reachable without the token: a load balancer's probe says only ready or not


@dataclass(frozen=True)
class Limits:
    """What one request may ask of the server."""

    timeout: float = 10.0  # seconds from the first byte received to the last byte of the response
    max_question: int = 1000  # characters
    max_body: int = 16_384  # bytes
    max_k: int = 50  # passages a search may return
    workers: int = max(2, os.cpu_count() or 2)  # requests answered at once; others wait, within their timeout


class AskRequest(BaseModel):
    """The body of POST /ask."""

    question: str = Field(description="a question in English", examples=["how many Chinese nationals did Zelensky claim?"])


class Stats(BaseModel):
    """What GET /stats reports about the index being served."""

    location: str
    generation: str
    model: str
    articles: int
    passages: int
    sentences: int
    reloads: int = Field(description="how many newer generations the server has moved to since it started")
    uptime_seconds: float


class Archive:
    """The open index the server answers from, moved to each newer generation a build publishes.

    `lease()` hands out the current QA; `refresh()` (the watcher thread calls it) opens a newer generation
    beside it and swaps it in. The QA it replaces is closed once the last request using it returns.
    """

    def __init__(self, location: str | Path) -> None:
        self.location = location
        self.reloads = 0
        self.problem = f"no index at {location} yet: build one with `qa index`"
        self._bot: qa.QA | None = None
        self._leases: dict[int, int] = {}
        self._retired: dict[int, qa.QA] = {}
        self._lock = threading.Lock()

    def refresh(self) -> bool:
        """Open the index if none is open, or its newer generation if one was published; True if it moved.

        On any failure (no index yet, a build that published again while this one opened) the current QA
        stays and the next call tries again.
        """
        current = self._bot
        try:
            if current is not None and not current.is_stale():
                return False
            bot = qa.open_index(self.location)
        except qa.QAError as exc:
            if current is None:
                self.problem = str(exc)
            log.warning("qa serve: keeping %s: %s", current.generation if current else "no index", exc)
            return False
        with self._lock:
            old, self._bot = self._bot, bot
            if old is not None:
                self.reloads += 1
                self._retire(old)
        log.info("qa serve: serving %s %s", self.location, bot.generation)
        return True

    @contextmanager
    def lease(self) -> Iterator[qa.QA]:
        """The current QA, kept open until the block ends even if a newer generation is swapped in meanwhile.

        Raises:
            IndexNotFoundError: no index could be opened yet.
        """
        with self._lock:
            bot = self._bot
            if bot is None:
                raise qa.IndexNotFoundError(self.problem)
            self._leases[id(bot)] = self._leases.get(id(bot), 0) + 1
        try:
            yield bot
        finally:
            with self._lock:
                self._leases[id(bot)] -= 1
                if not self._leases[id(bot)]:
                    del self._leases[id(bot)]
                    if id(bot) in self._retired:
                        self._retired.pop(id(bot)).close()

    def close(self) -> None:
        with self._lock:
            if self._bot is not None:
                self._retire(self._bot)
                self._bot = None

    def _retire(self, bot: qa.QA) -> None:
        if self._leases.get(id(bot)):
            self._retired[id(bot)] = bot
        else:
            bot.close()


def create_app(
    location: str | Path,
    *,
    token: str | None = None,
    limits: Limits = Limits(),
    reload_every: float = 0.5,
) -> FastAPI:
    """The ASGI app serving the index at `location` (an index folder or a Milvus URI).

    Args:
        location: what `qa.open_index` opens. The app starts without an index too, and answers 503 until
            a build makes one.
        token: if set, every request but /healthz must send `Authorization: Bearer <token>`.
        limits: caps and deadline of each request, and how many are answered at once.
        reload_every: seconds between two checks for a newer generation.

    Returns:
        A FastAPI app; its lifespan opens the index and runs the watcher.
    """
    archive = Archive(location)
    started = time.monotonic()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.limiter = anyio.CapacityLimiter(limits.workers)
        await anyio.to_thread.run_sync(archive.refresh)
        stop = threading.Event()
        watcher = threading.Thread(target=_watch, args=(archive, stop, reload_every), name="qa-serve-watcher",
                                   daemon=True)
        watcher.start()
        try:
            yield
        finally:
            stop.set()
            watcher.join(timeout=10)
            archive.close()

    app = FastAPI(
        title="qa", version="0.1.0", lifespan=lifespan,
        description="Ask questions of an archive of news articles: every answer is a sentence quoted verbatim, "
        "with its citation.",
    )
    app.state.archive = archive
    app.add_middleware(_Guard, token=token, max_body=limits.max_body, timeout=limits.timeout)

    async def call(request: Request, fn: Callable[[qa.QA], T]) -> T:
        def leased() -> T:
            with archive.lease() as bot:
                return fn(bot)

        # abandon_on_cancel: at the deadline the request returns 504 while the thread finishes on its own
        return await anyio.to_thread.run_sync(leased, limiter=request.app.state.limiter, abandon_on_cancel=True)

    def checked(question: str) -> str:
        if len(question) > limits.max_question:
            raise qa.QuestionError(
                f"the question has {len(question)} characters; ask in at most {limits.max_question}"
            )
        return question

    @app.post("/ask", response_model=qa.Answer, summary="Answer a question with a quoted, cited sentence")
    async def ask_post(request: Request, body: AskRequest) -> qa.Answer:
        question = checked(body.question)
        return await call(request, lambda bot: bot.ask(question))

    @app.get("/ask", response_model=qa.Answer, summary="Answer a question with a quoted, cited sentence")
    async def ask_get(request: Request, q: str = Query(description="the question")) -> qa.Answer:
        question = checked(q)
        return await call(request, lambda bot: bot.ask(question))

    @app.get("/search", response_model=list[qa.Passage], summary="The passages that best match a question")
    async def search(
        request: Request, q: str = Query(description="the question or keywords"),
        k: int = Query(10, ge=1, le=limits.max_k, description="how many passages"),
    ) -> list[qa.Passage]:
        question = checked(q)
        return await call(request, lambda bot: bot.search(question, k=k))

    @app.get("/articles/{doc_id}", response_model=qa.Article, summary="An article's cleaned text and metadata")
    async def article(request: Request, doc_id: str) -> qa.Article | JSONResponse:
        def read(bot: qa.QA) -> qa.Article | None:
            try:
                return bot.article(doc_id)
            except KeyError:
                return None

        found = await call(request, read)
        if found is None:
            return _error(404, f"no article {doc_id!r} in the archive", "ArticleNotFound")
        return found

    @app.get("/stats", response_model=Stats, summary="Counts, generation and model of the index served")
    async def stats(request: Request) -> Stats:
        def read(bot: qa.QA) -> Stats:
            return Stats(location=str(bot.location), generation=bot.generation, model=bot.model_name,
                         reloads=archive.reloads, uptime_seconds=round(time.monotonic() - started, 1), **bot.counts)

        return await call(request, read)

    @app.get("/healthz", summary="200 when an index is served, 503 while none can be read")
    async def healthz() -> JSONResponse:
        try:
            with archive.lease() as bot:
                return JSONResponse({"status": "ok", "generation": bot.generation})
        except qa.IndexNotFoundError as exc:
            return _error(503, str(exc), "IndexNotFoundError")

    @app.exception_handler(qa.QAError)
    async def qa_error(_request: Request, exc: qa.QAError) -> JSONResponse:
        status = 400 if isinstance(exc, qa.QuestionError) else 503
        return _error(status, str(exc), type(exc).__name__)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return _error(400, problems, "RequestValidationError")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), "HTTPException")

    return app


def check_binding(host: str, token: str | None) -> None:
    """Refuse to serve beyond loopback without a token.

    Raises:
        ValueError: `host` is not a loopback address and no token is set.
    """
    if token is None and not is_loopback(host):
        raise ValueError(
            f"serving on {host} would let anyone who reaches it read the archive: "
            "set a token with --token or QA_TOKEN, or bind to 127.0.0.1"
        )


def is_loopback(host: str) -> bool:
    """Whether a host to bind names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(
    location: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    limits: Limits = Limits(),
    access_log: bool = True,
) -> None:
    """Serve the index at `location` until interrupted (what `qa serve` runs).

    Raises:
        ValueError: the host is not loopback and no token is set.
    """
    import uvicorn

    check_binding(host, token)
    app = create_app(location, token=token, limits=limits)
    uvicorn.run(app, host=host, port=port, access_log=access_log, timeout_keep_alive=5,
                timeout_graceful_shutdown=int(limits.timeout) + 1)


@dataclass
class Running:
    """A server started by `running`: its base URL and the app it serves."""

    url: str
    app: FastAPI


@contextmanager
def running(
    location: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    limits: Limits = Limits(),
    reload_every: float = 0.5,
) -> Iterator[Running]:
    """Serve the index in a background thread for the length of a `with` block; port 0 takes a free one.

    For tests, notebooks and benchmarks: the server stops when the block ends.

    Raises:
        ValueError: the host is not loopback and no token is set.
        RuntimeError: the server did not start within 60 s.
    """
    import uvicorn

    check_binding(host, token)
    app = create_app(location, token=token, limits=limits, reload_every=reload_every)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, timeout_keep_alive=5,
                                           timeout_graceful_shutdown=int(limits.timeout) + 1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="qa-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"qa serve did not start on {host}:{port}")
        time.sleep(0.02)
    bound_host, bound_port = sock.getsockname()[:2]
    try:
        yield Running(url=f"http://{f'[{bound_host}]' if ':' in bound_host else bound_host}:{bound_port}", app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def _watch(archive: Archive, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        try:
            archive.refresh()
        except Exception:  # the watcher must outlive any one failed reopen; the next tick tries again
            log.exception("qa serve: reopening %s failed", archive.location)


def _error(status: int, message: str, kind: str) -> JSONResponse:
    return JSONResponse({"error": message, "type": kind}, status_code=status)


class _Guard:
    """ASGI middleware: the bearer token, the body cap and the deadline, before any route runs."""

    def __init__(self, app: ASGIApp, token: str | None, max_body: int, timeout: float) -> None:
        self.app = app
        self.token = f"Bearer {token}".encode() if token is not None else None
        self.max_body = max_body
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if self.token is not None and scope["path"] not in OPEN_PATHS:
            # compare_digest: as long to refuse a nearly right token as a wholly wrong one
            if not hmac.compare_digest(headers.get(b"authorization", b""), self.token):
                await _error(401, "this server needs `Authorization: Bearer <token>`", "Unauthorized")(
                    scope, receive, send)
                return
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _error(413, f"request bodies are capped at {self.max_body} bytes", "PayloadTooLarge")(
                scope, receive, send)
            return

        received = 0
        started = too_large = False

        async def counted_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request" and not too_large:
                received += len(message.get("body", b""))
                if received > self.max_body:  # a body sent without its length: stop reading, answer 413
                    too_large = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if too_large:
                if message["type"] == "http.response.start":
                    started = True
                    await _error(413, f"request bodies are capped at {self.max_body} bytes", "PayloadTooLarge")(
                        scope, receive, send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            with anyio.fail_after(self.timeout):
                await self.app(scope, counted_receive, tracked_send)
        except TimeoutError:
            if not started:
                await _error(504, f"the request took longer than {self.timeout:g} s; try again, or ask an "
                             "administrator to raise --timeout", "Timeout")(scope, receive, send)

"""HTTP exchanges bounded by one total deadline, for the controller's reads and pushes.

urllib's ``timeout`` bounds each socket operation, so a server that sends one byte a
second never trips a timeout of 5 s, however long the answer takes. :func:`exchange`
bounds the whole exchange (connecting, the status line and headers, the body) by one
deadline: every socket it opens is registered with a timer that shuts the socket down when
the deadline passes, which ends any read blocked on it; an answer cut off this way is a
failure, never a short body. The body is read up to a size limit.

The server side of the same contract (the live simulator's and the router front's
``POST /router``) reads a request's JSON body with :func:`read_json_body`: a
``Content-Length`` of at most 1 MiB, JSON or an error with the HTTP status to answer.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

__all__ = [
    "MAX_REQUEST_BODY",
    "Answer",
    "AnswerTooLarge",
    "BadRequestBody",
    "ExchangeFailed",
    "exchange",
    "read_json_body",
]

_CHUNK = 65536

#: The longest request body a server of the library reads, in bytes.
MAX_REQUEST_BODY = 1 << 20


class BadRequestBody(Exception):
    """A request body a server refuses, with the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def read_json_body(handler: BaseHTTPRequestHandler, max_bytes: int = MAX_REQUEST_BODY) -> Any:
    """The JSON body of the request ``handler`` is serving (``None`` for an empty one).

    Raises
    ------
    BadRequestBody
        413 for a ``Content-Length`` that is missing a number or outside
        ``0..max_bytes`` (nothing is read), 400 for a body that is not JSON.
    OSError
        When the client is too slow (the handler's ``timeout``) or went away: there is
        no one to answer.
    """
    try:
        length = int(handler.headers.get("Content-Length") or 0)
    except ValueError:
        length = -1
    if not 0 <= length <= max_bytes:
        raise BadRequestBody(413, f"Content-Length must be 0-{max_bytes} bytes")
    try:
        return json.loads(handler.rfile.read(length) or b"null")
    except ValueError:
        raise BadRequestBody(400, "the body is not JSON") from None


class ExchangeFailed(Exception):
    """No complete HTTP answer: refused, reset, not HTTP, too large or past the deadline."""


class AnswerTooLarge(ExchangeFailed):
    """The body is longer than the limit."""


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer: its status code and body (empty when not read)."""

    status: int
    body: bytes


class _Deadline:
    """A total deadline that shuts down every socket registered with it when it passes."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def remaining(self) -> float:
        return max(self.end - time.monotonic(), 1e-3)

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed, or never connected
        sock.shutdown(socket.SHUT_RDWR)


class _Connection(http.client.HTTPConnection):
    def __init__(self, *args: Any, deadline: _Deadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        self.timeout = self._deadline.remaining()
        super().connect()
        self._deadline.watch(self.sock)


class _SecureConnection(_Connection, http.client.HTTPSConnection):
    """The same deadline over TLS (``connect`` above wraps HTTPS's, handshake included)."""


class _Handler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        deadline = self.deadline

        def connection(host: str, /, **kwargs: Any) -> http.client.HTTPConnection:
            return _Connection(host, deadline=deadline, **kwargs)

        return self.do_open(connection, req)


class _SecureHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline
        self.context = ssl.create_default_context()

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        deadline = self.deadline

        def connection(host: str, /, **kwargs: Any) -> http.client.HTTPConnection:
            return _SecureConnection(host, deadline=deadline, **kwargs)

        return self.do_open(connection, req, context=self.context)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is the answer (urllib would resend a POST as a GET without its body)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _read(response: http.client.HTTPResponse, deadline: _Deadline, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(min(_CHUNK, max_bytes + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise AnswerTooLarge(f"answer larger than {max_bytes} bytes")
        if deadline.expired:
            break
    if deadline.expired:
        raise ExchangeFailed(f"no complete answer within {deadline.seconds:g} s")
    if response.length:  # http.client returns a short body when the server hangs up
        raise ExchangeFailed("connection closed in the middle of the answer")
    return b"".join(chunks)


def _reason(exc: BaseException) -> str:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    if isinstance(reason, http.client.RemoteDisconnected):
        return "connection closed without an answer"
    if isinstance(reason, http.client.IncompleteRead):
        return "connection closed in the middle of the answer"
    if isinstance(reason, http.client.HTTPException):
        return f"not an HTTP answer ({type(reason).__name__})"
    return str(reason) or type(reason).__name__


def exchange(
    url: str,
    *,
    deadline_s: float,
    max_bytes: int,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    redirects: bool = True,
) -> Answer:
    """One HTTP request (a ``POST`` when ``data`` is given) and its whole answer.

    Parameters
    ----------
    url
        ``http://`` or ``https://`` address.
    deadline_s
        Seconds for the whole exchange, from connecting to the last byte of the body.
    max_bytes
        Largest body read; 0 reads no body (the status is the answer).
    data
        Body of a ``POST``.
    headers
        Request headers.
    redirects
        Follow redirects (otherwise a 3xx status is the answer).

    Returns
    -------
    Answer
        The status code (any, 4xx and 5xx included) and the body.

    Raises
    ------
    ExchangeFailed
        When no complete answer came within the deadline and the size limit.
    """
    with _Deadline(deadline_s) as deadline:
        handlers: list[urllib.request.BaseHandler] = [_Handler(deadline), _SecureHandler(deadline)]
        if not redirects:
            handlers.append(_NoRedirect())
        opener = urllib.request.build_opener(*handlers)
        request = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            try:
                response: Any = opener.open(request, timeout=deadline_s)
                raw, status = response, int(response.status)
            except urllib.error.HTTPError as exc:
                response, raw, status = exc, exc.fp, exc.code
            with response:
                body = b""
                if max_bytes > 0 and isinstance(raw, http.client.HTTPResponse):
                    body = _read(raw, deadline, max_bytes)
        except ExchangeFailed:
            raise
        except (OSError, http.client.HTTPException, ValueError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            if deadline.expired or isinstance(reason, TimeoutError):
                raise ExchangeFailed(f"no complete answer within {deadline_s:g} s") from None
            raise ExchangeFailed(_reason(exc)) from None
        if deadline.expired:
            raise ExchangeFailed(f"no complete answer within {deadline_s:g} s")
    return Answer(status, body)

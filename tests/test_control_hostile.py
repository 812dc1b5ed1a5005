"""The controller against a Prometheus and a router that misbehave (issue 26, item 3).

A scripted loopback server (:class:`servers.Scripted`) stands in for Prometheus or the
router and answers each connection in one bad way: JSON of the wrong shape, values that
are no TTFT, bytes that are not HTTP, a drip of one byte at a time past the deadline, an
HTTP error, a closed connection. Each must be a named error of the client, a logged "no
signal" poll that keeps the last decision, or a failed push retried with backoff until it
lands, and ``gametheory control`` must run through all of them. (Its flags and settings
keys: ``test_control_cli.py``; a real Prometheus killed mid-run: ``test_control_service.py``.)
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from typing import Any

import pytest
from servers import (
    Reply,
    Scripted,
    answer,
    drip,
    free_port,
    hang_up,
    http_bytes,
    send,
    silence,
    vector,
)

from gametheory.cli import main
from gametheory.control.detector import CusumDetector, EWMADetector
from gametheory.control.policy import AdaptiveController
from gametheory.control.service import (
    PAPER_MAPPING,
    ControlService,
    PrometheusAnswerError,
    PrometheusClient,
    PrometheusUnavailable,
)
from gametheory.errors import GameError, TelemetryError


def _vector_doc(result: Any) -> dict[str, Any]:
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


GOOD = json.dumps(_vector_doc([{"metric": {}, "value": [1.0, "0.2"]}])).encode()

# (case, what the server sends, the field named, the message after it)
MALFORMED: list[tuple[str, Any, str | None, str]] = [
    ("list body", [], None, "expected a JSON object, got a list"),
    ("null", None, None, "expected a JSON object, got null"),
    ("number body", 3, None, "expected a JSON object, got a number"),
    ("not JSON", b"<html>hello</html>", None, "not JSON (HTTP 200, 18 bytes)"),
    ("nested past the parser", b"[" * 100_000, None, "not JSON (HTTP 200, 100000 bytes)"),
    ("no status", {"data": {}}, "status", "expected 'success' or 'error', got None"),
    ("data as a list", {"status": "success", "data": []}, "data", "expected an object, got a list"),
    ("data null", {"status": "success", "data": None}, "data", "expected an object, got null"),
    (
        "a matrix",
        {"status": "success", "data": {"resultType": "matrix", "result": []}},
        "data.resultType",
        "expected 'vector' or 'scalar', got 'matrix'",
    ),
    ("result an object", _vector_doc({}), "data.result", "expected a list, got an object"),
    (
        "a series not an object",
        _vector_doc([5]),
        "data.result[0]",
        "expected an object, got a number",
    ),
    ("missing value", _vector_doc([{"metric": {}}]), "data.result[0].value", "missing"),
    (
        "value not a pair",
        _vector_doc([{"metric": {}, "value": 0.2}]),
        "data.result[0].value",
        "expected a [time, value] pair, got 0.2",
    ),
    (
        "non-numeric value",
        _vector_doc([{"metric": {}, "value": [1.0, "fast"]}]),
        "data.result[0].value[1]",
        "expected a number, got 'fast'",
    ),
    (
        "a boolean value",
        _vector_doc([{"metric": {}, "value": [1.0, True]}]),
        "data.result[0].value[1]",
        "expected a number, got True",
    ),
    (
        "a scalar of the wrong shape",
        {"status": "success", "data": {"resultType": "scalar", "result": "0.2"}},
        "data.result",
        "expected a [time, value] pair, got '0.2'",
    ),
]


@pytest.fixture
def scripted() -> Iterator[list[Scripted]]:
    """Servers the test starts, all closed at teardown."""
    servers: list[Scripted] = []
    yield servers
    for server in servers:
        server.close()


def _serve(started: list[Scripted], *replies: Reply, port: int = 0) -> Scripted:
    server = Scripted(replies, port=port)
    started.append(server)
    return server


@pytest.mark.parametrize(
    ("body", "field", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_a_malformed_answer_names_the_field(
    scripted: list[Scripted], body: Any, field: str | None, message: str
) -> None:
    server = _serve(scripted, answer(200, body))
    with pytest.raises(PrometheusAnswerError) as caught:
        PrometheusClient(server.url, timeout_s=2.0).query("q")
    assert caught.value.field == field and caught.value.file == server.url
    where = server.url if field is None else f"{server.url}, field {field!r}"
    assert str(caught.value) == f"{where}: {message}"


def test_an_answer_past_the_size_limit_is_malformed(scripted: list[Scripted]) -> None:
    server = _serve(scripted, answer(200, b" " * 5000))
    with pytest.raises(PrometheusAnswerError) as caught:
        PrometheusClient(server.url, timeout_s=2.0, max_bytes=4096).query("q")
    assert str(caught.value) == f"{server.url}: answer larger than 4096 bytes"
    assert caught.value.field is None


def test_what_prometheus_says_is_shortened_and_printable(scripted: list[Scripted]) -> None:
    body = {"status": "error", "errorType": "bad\x1b[31m", "error": "y" * 300}
    server = _serve(scripted, answer(400, body))
    with pytest.raises(TelemetryError) as caught:
        PrometheusClient(server.url, timeout_s=2.0).query("q")
    assert str(caught.value) == f"{server.url}: PromQL error (bad?[31m): {'y' * 197}..."


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (answer(500, b"oops"), "HTTP 500 from Prometheus"),
        (answer(404, b"not here"), "HTTP 404 from Prometheus"),
        (hang_up, "cannot reach Prometheus: connection closed without an answer"),
        (send(b"garbage\r\n\r\n"), "cannot reach Prometheus: not an HTTP answer (BadStatusLine)"),
        (
            send(http_bytes(200, GOOD)[:-5]),
            "cannot reach Prometheus: connection closed in the middle of the answer",
        ),
    ],
    ids=["500", "404", "hang-up", "not HTTP", "cut short"],
)
def test_no_complete_answer_is_prometheus_unavailable(
    scripted: list[Scripted], reply: Reply, reason: str
) -> None:
    server = _serve(scripted, reply)
    with pytest.raises(PrometheusUnavailable) as caught:
        PrometheusClient(server.url, timeout_s=2.0).query("q")
    assert str(caught.value) == f"{server.url}: {reason}" and caught.value.field is None


def test_a_rejected_query_is_a_promql_error(scripted: list[Scripted]) -> None:
    body = {"status": "error", "errorType": "bad_data", "error": "parse error at char 5"}
    server = _serve(scripted, answer(400, body))
    with pytest.raises(TelemetryError) as caught:
        PrometheusClient(server.url, timeout_s=2.0).query("q(")
    assert type(caught.value) is TelemetryError
    assert str(caught.value) == f"{server.url}: PromQL error (bad_data): parse error at char 5"


@pytest.mark.parametrize(
    "reply",
    [
        drip(http_bytes(200, GOOD), 0.02),  # the status line itself, a byte at a time
        drip(http_bytes(200, GOOD), 0.02, start=len(http_bytes(200, GOOD)) - len(GOOD)),
        silence,
    ],
    ids=["drip from the status line", "drip of the body", "silence"],
)
def test_reads_are_bounded_by_a_total_deadline(scripted: list[Scripted], reply: Reply) -> None:
    # every byte comes well within a per-read timeout of 0.4 s; the whole answer would
    # take over 2 s
    server = _serve(scripted, reply)
    client = PrometheusClient(server.url, timeout_s=0.4)
    start = time.monotonic()
    with pytest.raises(PrometheusUnavailable) as caught:
        client.query("q")
    took = time.monotonic() - start
    assert str(caught.value) == (
        f"{server.url}: cannot reach Prometheus: no complete answer within 0.4 s"
    )
    assert 0.4 <= took < 0.9


def test_an_https_url_goes_through_the_same_bounded_exchange(
    scripted: list[Scripted],
) -> None:
    # a plain-HTTP server that hangs up on the TLS handshake: one failed query naming the
    # URL, within the deadline (the TLS connection class shares the deadline's connect)
    server = _serve(scripted, silence)
    url = server.url.replace("http://", "https://")
    client = PrometheusClient(url, timeout_s=0.4)
    start = time.monotonic()
    with pytest.raises(PrometheusUnavailable) as caught:
        client.query("q")
    assert str(caught.value).startswith(f"{url}: cannot reach Prometheus: ")
    assert time.monotonic() - start < 0.9


def test_every_bad_answer_is_a_no_signal_poll_that_keeps_the_decision(
    scripted: list[Scripted],
) -> None:
    bad: list[tuple[Reply, str]] = [
        (answer(200, []), "malformed answer: {url}: expected a JSON object, got a list"),
        (answer(200, None), "malformed answer: {url}: expected a JSON object, got null"),
        (
            answer(200, {"status": "success", "data": []}),
            "malformed answer: {url}, field 'data': expected an object, got a list",
        ),
        (
            vector("fast"),
            "malformed answer: {url}, field 'data.result[0].value[1]': expected a number, "
            "got 'fast'",
        ),
        (
            answer(200, _vector_doc([{"metric": {}}])),
            "malformed answer: {url}, field 'data.result[0].value': missing",
        ),
        (vector("-0.2"), "negative TTFT P99 -0.2 s"),
        (vector("+Inf"), "infinite value inf"),
        (vector("NaN"), "NaN"),
        (answer(200, _vector_doc([])), "empty result"),
        (
            drip(http_bytes(200, GOOD), 0.02),
            "prometheus unavailable: {url}: cannot reach Prometheus: no complete answer "
            "within 0.5 s",
        ),
        (answer(503, b""), "prometheus unavailable: {url}: HTTP 503 from Prometheus"),
        (
            answer(422, {"status": "error", "errorType": "execution", "error": "too many"}),
            "query failed: {url}: PromQL error (execution): too many",
        ),
    ]
    server = _serve(scripted, vector("2.0"), *(reply for reply, _ in bad), vector("0.2"))
    records: list[dict[str, Any]] = []
    detector = EWMADetector(0.5, 1.0, min_dwell_s=0.0)
    service = ControlService(
        PrometheusClient(server.url, timeout_s=0.5),
        AdaptiveController(detector, dict(PAPER_MAPPING)),
        emit=records.append,
    )
    first = service.poll(0.0)
    assert (first["status"], first["regime"], first["changed"]) == ("ok", "saturated", True)
    ewma = detector.ewma
    for k in range(len(bad)):
        service.poll(1.0 + k)
    assert [r["status"] for r in records[1:]] == [
        f"no signal ({status.format(url=server.url)})" for _, status in bad
    ]
    assert {
        (r["ttft_p99_s"], r["regime"], r["omega"], r["tau"], r["changed"]) for r in records[1:]
    } == {(None, "saturated", 0.1, 0.8, False)}
    assert detector.ewma == ewma == 2.0
    assert service.last is records[-1] and len(records) == 1 + len(bad)
    back = service.poll(100.0)  # the next good answer is a signal again
    assert (back["status"], back["ttft_p99_s"]) == ("ok", 0.2)


def test_a_sample_the_detector_refuses_is_no_signal(scripted: list[Scripted]) -> None:
    server = _serve(scripted, vector("0"))
    service = ControlService(
        PrometheusClient(server.url, timeout_s=2.0),
        AdaptiveController(CusumDetector(0.5), dict(PAPER_MAPPING)),
        emit=lambda record: None,
    )
    record = service.poll(1.0)
    assert record["status"] == (
        "no signal (the detector refused 0.0: latency signal must be positive, got 0.0 at time 1.0)"
    )
    assert (record["ttft_p99_s"], record["regime"]) == (None, "below")


def test_failed_pushes_are_retried_with_backoff_until_they_land(
    scripted: list[Scripted],
) -> None:
    prometheus = _serve(scripted, vector("3.0"))  # saturated all along: one setting to send
    router_port = free_port()  # nobody listens yet: connection refused
    records: list[dict[str, Any]] = []
    service = ControlService(
        PrometheusClient(prometheus.url, timeout_s=0.5),
        AdaptiveController(EWMADetector(0.5, 1.0, min_dwell_s=0.0), PAPER_MAPPING),
        interval_s=1.0,
        push_url=f"http://127.0.0.1:{router_port}/router",
        emit=records.append,
        max_backoff_s=30.0,
    )
    for k in range(2):
        service.poll(float(k))
    router = _serve(scripted, answer(500, b"busy"), hang_up, silence, answer(204), port=router_port)
    for k in range(2, 40):
        service.poll(float(k))
    pushes = {k: r["pushed"] for k, r in enumerate(records) if "pushed" in r}
    assert pushes == {  # attempts 1, 2, 4, 8 and 16 polls apart
        0: "failed: Connection refused",
        1: "failed: Connection refused",
        3: "failed: HTTP 500",
        7: "failed: connection closed without an answer",
        15: "failed: no complete answer within 0.5 s",
        31: "HTTP 204",
    }
    assert [r.get("push_failures") for r in records[:8]] == [1, 2, None, 3, None, None, None, 4]
    assert [r.get("retry_in_s") for r in records[:8]] == [1.0, 2.0, 1.0, 4.0, 3.0, 2.0, 1.0, 8.0]
    assert records[15]["retry_in_s"] == 16.0 and records[30]["retry_in_s"] == 1.0
    assert all(r["intended"] == [0.1, 0.8] and r["applied"] is None for r in records[:31])
    assert all(r["intended"] == r["applied"] == [0.1, 0.8] for r in records[31:])
    assert all("retry_in_s" not in r and "pushed" not in r for r in records[32:])
    assert {(r["regime"], r["omega"], r["tau"]) for r in records} == {("saturated", 0.1, 0.8)}
    assert service.applied == (0.1, 0.8)
    assert router.bodies() == [{"omega": 0.1, "tau": 0.8}] * 4


def test_the_backoff_is_capped_and_a_new_setting_is_sent_at_once(
    scripted: list[Scripted],
) -> None:
    prometheus = _serve(scripted, *[vector("0.2")] * 6, vector("3.0"))
    router = _serve(scripted, *[answer(503)] * 7, answer(200))
    service = ControlService(
        PrometheusClient(prometheus.url, timeout_s=0.5),
        AdaptiveController(EWMADetector(0.5, 1.0, alpha=1.0, min_dwell_s=0.0), PAPER_MAPPING),
        interval_s=0.5,
        push_url=router.url + "/router",
        emit=lambda record: None,
        max_backoff_s=1.0,  # two polls
    )
    records = [service.poll(float(k)) for k in range(10)]
    attempts = [k for k, r in enumerate(records) if "pushed" in r]
    assert attempts == [0, 1, 3, 5, 6, 7, 9]  # 1, 2, 2 polls; the switch at 6 goes at once
    assert [records[k]["pushed"] for k in attempts] == ["failed: HTTP 503"] * 7
    assert [r["intended"] for r in records] == [[1.0, 0.0]] * 6 + [[0.1, 0.8]] * 4
    assert router.bodies() == [{"omega": 1.0, "tau": 0.0}] * 4 + [{"omega": 0.1, "tau": 0.8}] * 3


def test_a_redirect_is_a_failed_push_never_a_get(scripted: list[Scripted]) -> None:
    moved = b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n"
    router = _serve(scripted, send(moved), answer(200))
    prometheus = _serve(scripted, vector("0.2"))
    service = ControlService(
        PrometheusClient(prometheus.url, timeout_s=1.0),
        push_url=router.url + "/router",
        emit=lambda record: None,
    )
    record = service.poll(0.0)
    assert (record["pushed"], record["applied"], record["retry_in_s"]) == (
        "failed: HTTP 307",
        None,
        5.0,
    )
    assert [(method, target) for method, target, _ in router.requests] == [("POST", "/router")]


def test_the_command_line_survives_a_hostile_prometheus_and_router(
    scripted: list[Scripted], capsys: pytest.CaptureFixture[str]
) -> None:
    slow = drip(http_bytes(200, GOOD), 0.02)
    replies: list[tuple[Reply, str]] = [
        (vector("2.0"), "ok"),
        (answer(200, []), "malformed answer: {url}: expected a JSON object, got a list"),
        (answer(200, None), "malformed answer: {url}: expected a JSON object, got null"),
        (
            answer(200, {"status": "success", "data": []}),
            "malformed answer: {url}, field 'data': expected an object, got a list",
        ),
        (
            vector("fast"),
            "malformed answer: {url}, field 'data.result[0].value[1]': expected a number, "
            "got 'fast'",
        ),
        (
            answer(200, _vector_doc([{"metric": {}}])),
            "malformed answer: {url}, field 'data.result[0].value': missing",
        ),
        (vector("-0.2"), "negative TTFT P99 -0.2 s"),
        (
            slow,
            "prometheus unavailable: {url}: cannot reach Prometheus: no complete answer "
            "within 0.5 s",
        ),
        (
            hang_up,
            "prometheus unavailable: {url}: cannot reach Prometheus: connection closed "
            "without an answer",
        ),
        (vector("2.5"), "ok"),
    ]
    prometheus = _serve(scripted, vector("0.2"), *(reply for reply, _ in replies))
    router = _serve(scripted, answer(500), hang_up, answer(204))
    code = main(["control", "--prometheus", prometheus.url, "--push", router.url,
                 "--interval", "0.05", "--timeout", "0.5", "--min-dwell-s", "0",
                 "--max-polls", str(len(replies))])  # fmt: skip
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    lines = [json.loads(line) for line in out.splitlines()]
    expected = [
        s if s == "ok" else f"no signal ({s.format(url=prometheus.url)})" for _, s in replies
    ]
    assert [r["status"] for r in lines] == expected
    assert {(r["regime"], r["omega"], r["tau"]) for r in lines} == {("saturated", 0.1, 0.8)}
    assert [r.get("pushed") for r in lines[:4]] == [
        "failed: HTTP 500",
        "failed: connection closed without an answer",
        None,
        "HTTP 204",
    ]
    assert [r["applied"] for r in lines] == [None] * 3 + [[0.1, 0.8]] * (len(lines) - 3)
    assert all(r["intended"] == [0.1, 0.8] for r in lines)
    assert router.bodies() == [{"omega": 0.1, "tau": 0.8}] * 3


def test_the_library_checks_its_own_arguments() -> None:
    with pytest.raises(GameError, match=r"^url must be an http:// or https:// URL, got 'x'$"):
        PrometheusClient("x")
    with pytest.raises(GameError, match=r"^timeout_s must be a finite number > 0, got -1$"):
        PrometheusClient("http://127.0.0.1:9090", timeout_s=-1)
    with pytest.raises(GameError, match=r"^timeout_s must be a finite number > 0, got inf$"):
        PrometheusClient("http://127.0.0.1:9090", timeout_s=math.inf)
    with pytest.raises(GameError, match=r"^max_bytes must be a whole number >= 1, got 0$"):
        PrometheusClient("http://127.0.0.1:9090", max_bytes=0)
    client = PrometheusClient("http://127.0.0.1:9090")
    with pytest.raises(GameError, match=r"^push_url must be an http:// or https:// URL, got 'n'$"):
        ControlService(client, push_url="n")
    with pytest.raises(GameError, match=r"^max_backoff_s must be positive, got 0$"):
        ControlService(client, max_backoff_s=0)

"""Hostile input at the entry points not covered beside their readers (issue 26): Gambit
``.nfg`` files with numbers no float holds or counts no file can fill, TNTP files with
such numbers, and the live simulator's HTTP endpoints sent bodies of every wrong shape.
Each case asserts the exact outcome: the error class and what it names."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gametheory.errors import GameError
from gametheory.games.network.tntp import read_tntp
from gametheory.games.nfg import read_nfg
from gametheory.sim import Cluster, paper_workload
from gametheory.sim.live import LiveRun
from gametheory.sim.routing import KVRouterPolicy

NFG = 'NFG 1 R "g" { "P1" "P2" } { 2 2 }\n1 1 0 2 0 2 1 1\n'
HUGE = "1" + "0" * 400


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (NFG.replace(" 2 0 2", " 1e400 0 2", 1), "line 2: a payoff must be a number a float can"),
        (NFG.replace(" 2 0 2", f" {HUGE} 0 2", 1), "(403 characters)"),  # its repr: quoted
        (NFG.replace(" 2 0 2", " 1e999999999 0 2", 1), "a number a float can hold"),
        (NFG.replace(" 2 0 2", " 1/0 0 2", 1), "a payoff must be a number, got '1/0'"),
        (NFG.replace("{ 2 2 }", "{ 1e400 2 }"), "a strategy count must be a number a float"),
        (NFG.replace("{ 2 2 }", "{ 99999999999999999999 2 }"), "make 2e+20 profiles, but only"),
        (NFG.replace("{ 2 2 }", "{ 0 2 }"), "a strategy count must be a positive integer"),
    ],
)
def test_nfg_numbers_and_counts(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "g.nfg"
    path.write_text(text)
    with pytest.raises(GameError) as info:
        read_nfg(path)  # at once: nothing of the announced size is built
    assert message in str(info.value) and str(path) in str(info.value)


TNTP_NET = """<NUMBER OF ZONES> 2
<NUMBER OF NODES> 2
<FIRST THRU NODE> 1
<NUMBER OF LINKS> 2
<END OF METADATA>
~ init term capacity length fft b power speed toll type ;
\t1\t2\t100\t1\t{fft}\t0.15\t4\t0\t0\t1\t;
\t2\t1\t100\t1\t1\t0.15\t4\t0\t0\t1\t;
"""
TNTP_TRIPS = """<NUMBER OF ZONES> 2
<TOTAL OD FLOW> 10
<END OF METADATA>
Origin 1
    2 : {rate};
Origin 2
    1 : 5;
"""


@pytest.mark.parametrize(
    ("fft", "rate", "message"),
    [
        ("1e400", "5", "field 'free_flow_time' is not finite: '1e400'"),
        (HUGE, "5", "field 'free_flow_time' is not finite"),
        ("1", "1e400", "field 'rate' is not finite: '1e400'"),
        ("1", "nan", "field 'rate' is not finite: 'nan'"),
    ],
)
def test_tntp_numbers_no_float_holds(tmp_path: Path, fft: str, rate: str, message: str) -> None:
    net, trips = tmp_path / "x_net.tntp", tmp_path / "x_trips.tntp"
    net.write_text(TNTP_NET.format(fft=fft))
    trips.write_text(TNTP_TRIPS.format(rate=rate))
    with pytest.raises(GameError) as info:
        read_tntp(net, trips)
    assert message in str(info.value)


@pytest.fixture
def live_url() -> Iterator[tuple[str, int]]:
    cluster = Cluster.build(n_prefill=1, n_decode=2, tp_prefill=4, tp_decode=4)
    live = LiveRun(cluster, paper_workload(2_000), KVRouterPolicy(), concurrency=4, speedup=5)
    server = live.serve(0)
    thread = threading.Thread(target=live.run, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_address[1]
    finally:
        live.stop.set()
        thread.join(30)
        server.shutdown()
        server.server_close()


def _request(
    where: tuple[str, int], path: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, object]]:
    conn = http.client.HTTPConnection(*where, timeout=5)
    try:
        conn.putrequest("POST", path)
        sent = {"Content-Length": str(len(body)), **(headers or {})}
        for key, value in sent.items():
            conn.putheader(key, value)
        conn.endheaders(body)
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/router", b"{not json", 400, "the body is not JSON"),
        ("/router", b"[1, 2]", 400, "the body must be a JSON object"),
        ("/router", b"null", 400, "the body must be a JSON object"),
        ("/router", b'{"omega": "x"}', 400, "omega must be a number, got 'x'"),
        ("/router", b'{"omega": NaN}', 400, "omega must be finite and nonnegative"),
        ("/router", b'{"omega": 1e400}', 400, "omega must be finite and nonnegative"),
        ("/router", b'{"tau": ' + HUGE.encode() + b"}", 400, "got a 1329-bit integer"),
        ("/router", b'{"tau": -1}', 400, "tau must be finite and nonnegative, got -1"),
        ("/router", b"{}", 400, "give omega and/or tau"),
        ("/load", b'{"concurrency": 2.5}', 400, "concurrency must be an integer in 1-1000000"),
        ("/load", b'{"concurrency": ' + HUGE.encode() + b"}", 400, "(401 characters)"),
        ("/load", b'{"concurrency": true}', 400, "concurrency must be an integer in 1-1000000"),
        ("/nowhere", b"{}", 404, "cannot POST to '/nowhere'"),
    ],
)
def test_the_live_endpoints_refuse_bad_bodies(
    live_url: tuple[str, int], path: str, body: bytes, status: int, message: str
) -> None:
    code, doc = _request(live_url, path, body)
    assert code == status
    assert message in str(doc["error"])
    # the server is still up and the router untouched
    assert _request(live_url, "/router", b'{"omega": 1}')[0] == 200


@pytest.mark.parametrize("length", ["-5", "999999999999", "abc"])
def test_a_bad_content_length_is_refused_without_reading(
    live_url: tuple[str, int], length: str
) -> None:
    code, doc = _request(live_url, "/router", b"{}", {"Content-Length": length})
    assert code == 413 and "Content-Length must be 0-1048576 bytes" in str(doc["error"])

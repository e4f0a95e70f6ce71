"""Issue 5, HTTP/2 clients that stop reading are bounded (http-hardening.md §F, slow-read;
cf. CVE-2019-9511 "data dribble", CVE-2019-9517 "internal data buffering"): a client whose
windows stay shut (SETTINGS_INITIAL_WINDOW_SIZE 0, no WINDOW_UPDATE) is closed after
limits.send_timeout and counted, even while it keeps the connection busy with PINGs; a client
that opens its window bit by bit, each time within the timeout, gets its whole large body; one
stuck stream is reset (CANCEL) while a second stream on the same connection completes; a
connection buffers at most http2.max_response_buffer (plus a small floor per stream) for a
client that does not read, and still delivers every byte once it does; the node keeps serving
others throughout."""

import select
import struct
import time

import pytest

from harness import Reply
from harness.client import fetch
from harness.h2raw import (ACK, DATA, END_STREAM, GOAWAY, HEADERS, PING, RST_STREAM, SETTINGS,
                           WINDOW_UPDATE, END_HEADERS, ENHANCE_YOUR_CALM, H2Raw, frame)
from harness.tls import sitePki
from test_tls import CACHEABLE, metric, tls_config

CANCEL = 0x8
INITIAL_WINDOW_SIZE = 4


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return sitePki(tmp_path_factory.mktemp("pki-h2send"))


def body_of(size, seed):
    return bytes((i * 7 + seed) % 251 for i in range(size))


def start(start_edgecache, pki, send_timeout="1s", http2=None):
    config = tls_config(pki)
    config["limits"] = {"send_timeout": send_timeout}
    if http2:
        config["http2"] = http2
    return start_edgecache(config=config)


def shut_windows(h2):
    """Stream windows start at 0; the connection window is opened wide (streams then wait
    only on their own windows)."""
    h2.send(frame(SETTINGS, 0, 0, struct.pack(">HI", INITIAL_WINDOW_SIZE, 0)) +
            frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", (1 << 30))))


def request(h2, stream, path):
    h2.send(frame(HEADERS, END_HEADERS | END_STREAM, stream,
                  h2.block(h2.request_headers(path=path))))


def open_window(h2, stream, n):
    h2.send(frame(WINDOW_UPDATE, 0, stream, struct.pack(">I", n)))


class Reader:
    """Collects a raw connection's frames per stream."""

    def __init__(self, h2):
        self.h2 = h2
        self.bodies = {}
        self.status = {}
        self.ended = set()
        self.resets = {}
        self.goaway = None

    def step(self, timeout):
        """Handles one frame if one comes within `timeout`; False once the server closed.
        (H2Raw.read_frame takes a receive timeout for a close, so wait for input first.)"""
        h2 = self.h2
        if len(h2.buffer) < 9 and not h2.sock.pending():
            readable, _, _ = select.select([h2.sock], [], [], timeout)
            if not readable:
                return True
        got = h2.read_frame(5.0)
        if got is None:
            return False
        ftype, flags, sid, payload = got
        if ftype == SETTINGS and not flags & ACK:
            self.h2.send(frame(SETTINGS, ACK, 0))
        elif ftype == HEADERS:
            for name, value in self.h2.decoder.decode(payload):
                name = name if isinstance(name, str) else name.decode()
                if name == ":status":
                    self.status[sid] = int(value)
            if flags & END_STREAM:
                self.ended.add(sid)
        elif ftype == DATA:
            self.bodies[sid] = self.bodies.get(sid, b"") + payload
            if flags & END_STREAM:
                self.ended.add(sid)
        elif ftype == RST_STREAM:
            self.resets[sid] = int.from_bytes(payload[:4], "big")
        elif ftype == GOAWAY:
            self.goaway = int.from_bytes(payload[4:8], "big")
        return True

    def until(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if not self.step(min(left, 0.2)):
                return predicate()
        return True


def serves_others(node, pki):
    assert fetch(node.port, "GET", "/small").status == 200
    with H2Raw(node.tls_port, pki.context()) as other:
        request(other, 1, "/small")
        status, _, body = other.response(1)
        assert (status, body) == (200, b"small")
    assert node.healthz()[0] == 200


def test_issue_5_h2_client_with_shut_windows_is_closed_after_send_timeout(start_edgecache, pki,
                                                                          origin):
    origin.script("/big", Reply(200, CACHEABLE, body_of(1 << 20, 1)))
    origin.script("/small", Reply(200, CACHEABLE, b"small"))
    node = start(start_edgecache, pki)
    with H2Raw(node.tls_port, pki.context()) as h2:
        shut_windows(h2)
        request(h2, 1, "/big")
        request(h2, 3, "/big")
        reader = Reader(h2)
        assert reader.until(lambda: 1 in reader.status and 3 in reader.status, 10)
        started = time.monotonic()
        # The client reads everything and answers PINGs go back and forth (the socket moves),
        # but no response byte does: that is no progress.
        checked_others = False
        next_ping = started
        while not h2.closed and time.monotonic() - started < 10:
            if time.monotonic() >= next_ping:  # 3 a second, well within the PING budget
                h2.send(frame(PING, 0, 0, b"12345678"))
                next_ping += 0.3
            reader.step(0.1)
            if not checked_others and time.monotonic() - started > 0.3:
                serves_others(node, pki)  # meanwhile the node serves others
                checked_others = True
        elapsed = time.monotonic() - started
        assert h2.closed, "still open after 10 s"
        assert 0.9 <= elapsed <= 3.5, elapsed
        assert reader.goaway == ENHANCE_YOUR_CALM
        assert reader.bodies.get(1, b"") == b"" and reader.bodies.get(3, b"") == b""
    assert metric(node, "edgecache_client_send_timeouts_total", protocol="http2") == 1
    assert metric(node, "edgecache_client_send_timeouts_total", protocol="http1") == 0
    assert metric(node, "edgecache_http2_enhance_your_calm_total") == 0
    assert "took no response bytes for limits.send_timeout" in node.stderr()
    serves_others(node, pki)


def test_issue_5_h2_slow_steady_reader_gets_the_whole_body(start_edgecache, pki, origin):
    big = body_of(160 << 10, 2)
    origin.script("/big", Reply(200, CACHEABLE, big))
    origin.script("/small", Reply(200, CACHEABLE, b"small"))
    node = start(start_edgecache, pki)
    with H2Raw(node.tls_port, pki.context()) as h2:
        shut_windows(h2)
        request(h2, 1, "/big")
        reader = Reader(h2)
        started = time.monotonic()
        step = 16 << 10
        # 10 steps of 16 KiB, one every 0.6 s: about 6 s in all, each step within the 1 s timeout.
        while 1 not in reader.ended:
            have = len(reader.bodies.get(1, b""))
            open_window(h2, 1, step)
            assert reader.until(lambda: 1 in reader.ended or
                                len(reader.bodies.get(1, b"")) >= have + step, 5), have
            time.sleep(0.6)
        assert time.monotonic() - started > 5
        assert reader.bodies[1] == big
        assert reader.status[1] == 200 and not reader.resets
        serves_others(node, pki)
    assert metric(node, "edgecache_client_send_timeouts_total") == 0
    assert metric(node, "edgecache_http2_stream_send_timeouts_total") == 0


def test_issue_5_h2_one_stuck_stream_is_reset_while_another_completes(start_edgecache, pki,
                                                                     origin):
    stuck = body_of(1 << 20, 3)
    moving = body_of(128 << 10, 4)
    origin.script("/stuck", Reply(200, CACHEABLE, stuck))
    origin.script("/moving", Reply(200, CACHEABLE, moving))
    origin.script("/small", Reply(200, CACHEABLE, b"small"))
    node = start(start_edgecache, pki)
    with H2Raw(node.tls_port, pki.context()) as h2:
        shut_windows(h2)
        request(h2, 1, "/stuck")
        request(h2, 3, "/moving")
        reader = Reader(h2)
        started = time.monotonic()
        reset_at = None
        step = 16 << 10
        while 3 not in reader.ended:
            have = len(reader.bodies.get(3, b""))
            open_window(h2, 3, step)
            assert reader.until(lambda: 3 in reader.ended or
                                len(reader.bodies.get(3, b"")) >= have + step, 5), have
            if reset_at is None and 1 in reader.resets:
                reset_at = time.monotonic() - started
            time.sleep(0.4)
        reader.until(lambda: 1 in reader.resets, 3)
        if reset_at is None:
            reset_at = time.monotonic() - started
        assert reader.resets.get(1) == CANCEL, reader.resets
        assert 0.9 <= reset_at <= 3.5, reset_at
        assert reader.bodies[3] == moving and reader.status[3] == 200
        assert not h2.closed
        # The connection goes on: another request on it.
        request(h2, 5, "/small")
        open_window(h2, 5, 1 << 20)
        status, _, body = h2.response(5)
        assert (status, body) == (200, b"small")
    assert metric(node, "edgecache_http2_stream_send_timeouts_total") == 1
    assert metric(node, "edgecache_client_send_timeouts_total") == 0
    serves_others(node, pki)


def test_issue_5_h2_response_buffer_is_bounded_and_every_byte_still_arrives(start_edgecache, pki,
                                                                           origin):
    bodies = {"/o%d" % i: body_of(512 << 10, 10 + i) for i in range(8)}
    for path, body in bodies.items():
        origin.script(path, Reply(200, CACHEABLE, body))
    origin.script("/small", Reply(200, CACHEABLE, b"small"))
    node = start(start_edgecache, pki, send_timeout="60s",
                 http2={"max_response_buffer": "64KiB"})
    with H2Raw(node.tls_port, pki.context()) as h2:
        shut_windows(h2)
        streams = {}
        for i, path in enumerate(bodies):
            streams[1 + 2 * i] = path
            request(h2, 1 + 2 * i, path)
        reader = Reader(h2)
        assert reader.until(lambda: len(reader.status) == len(streams), 10)
        # Eight 512 KiB answers wait on shut windows: the connection holds 64 KiB plus a 16 KiB
        # floor per stream, not 8 x 256 KiB.
        assert metric(node, "edgecache_http2_response_buffer_full_total") > 0
        for sid in streams:
            open_window(h2, sid, 1 << 20)
        assert reader.until(lambda: reader.ended >= set(streams), 30), sorted(reader.ended)
        for sid, path in streams.items():
            assert reader.bodies[sid] == bodies[path], path
        assert not reader.resets
    serves_others(node, pki)
    assert metric(node, "edgecache_client_send_timeouts_total") == 0


def test_issue_5_h2_max_response_buffer_out_of_range_is_refused(tmp_path):
    import subprocess
    from harness.edgecache import require_binary
    config = tmp_path / "bad.yaml"
    config.write_text("http2:\n  max_response_buffer: 1KiB\n")
    done = subprocess.run([require_binary(), "--check-config", str(config)], capture_output=True,
                          timeout=30)
    assert done.returncode != 0
    assert "http2.max_response_buffer" in (done.stdout + done.stderr).decode()


def rss_kib(node):
    with open("/proc/%d/status" % node.process.pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def rss_growth_with_shut_windows(start_edgecache, pki, origin, budget, connections=2, streams=100):
    """RSS growth (KiB) while `connections` clients each hold `streams` answers of a cached
    1 MiB object behind shut windows."""
    origin.script("/obj", Reply(200, CACHEABLE, body_of(1 << 20, 5)))
    node = start(start_edgecache, pki, send_timeout="60s", http2={"max_response_buffer": budget})
    with H2Raw(node.tls_port, pki.context()) as warm:
        request(warm, 1, "/obj")
        assert warm.response(1)[0] == 200
    time.sleep(0.3)
    before = rss_kib(node)
    clients = []
    try:
        for _ in range(connections):
            h2 = H2Raw(node.tls_port, pki.context())
            clients.append(h2)
            shut_windows(h2)
            for i in range(streams):
                request(h2, 1 + 2 * i, "/obj")
            reader = Reader(h2)
            assert reader.until(lambda: len(reader.status) == streams, 20)
        time.sleep(1)
        return rss_kib(node) - before, metric(node, "edgecache_http2_response_buffer_full_total")
    finally:
        for h2 in clients:
            h2.close()


def test_issue_5_h2_non_reading_clients_cannot_make_the_node_buffer_per_stream(start_edgecache, pki,
                                                                               origin, monkeypatch):
    # A small ASan quarantine, so freed buffers do not look like held ones.
    monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:quarantine_size_mb=8")
    # A budget no connection reaches (what every connection did before the bound): each of the
    # 200 streams copies 256 KiB of the object ready for DATA frames, about 50 MiB.
    unbounded, full = rss_growth_with_shut_windows(start_edgecache, pki, origin, "1GiB")
    assert full == 0
    # The default 1 MiB: 1 MiB + 100 x 16 KiB per connection, about 5 MiB for both.
    bounded, full = rss_growth_with_shut_windows(start_edgecache, pki, origin, "1MiB")
    assert full > 0
    print("rss growth for 2 x 100 shut streams: %.1f MiB unbounded, %.1f MiB with 1 MiB budget"
          % (unbounded / 1024, bounded / 1024))
    assert unbounded > 40 * 1024, unbounded
    assert bounded < 25 * 1024 and bounded * 3 < unbounded, (bounded, unbounded)


def test_issue_5_h2_client_that_stops_reading_the_socket_is_closed(start_edgecache, pki, origin):
    big = body_of(24 << 20, 6)
    origin.script("/huge", Reply(200, CACHEABLE, big))
    origin.script("/small", Reply(200, CACHEABLE, b"small"))
    node = start(start_edgecache, pki)
    with H2Raw(node.tls_port, pki.context()) as h2:
        # Windows wide open, then the client reads nothing more: the socket fills up.
        h2.send(frame(SETTINGS, 0, 0, struct.pack(">HI", INITIAL_WINDOW_SIZE, (1 << 31) - 1)) +
                frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", (1 << 31) - 1 - 65535)))
        request(h2, 1, "/huge")
        started = time.monotonic()
        deadline = started + 20
        while time.monotonic() < deadline:
            if metric(node, "edgecache_client_send_timeouts_total", protocol="http2") == 1:
                break
            time.sleep(0.2)
        assert metric(node, "edgecache_client_send_timeouts_total", protocol="http2") == 1
        assert time.monotonic() - started >= 0.9  # the socket filled, then a whole timeout
        print("closed %.2f s after the request" % (time.monotonic() - started))
        serves_others(node, pki)
        # What the kernel buffered still arrives, then the end: not the whole body.
        reader = Reader(h2)
        while reader.step(2.0):
            pass
        assert h2.closed
        assert len(reader.bodies.get(1, b"")) < len(big)
        assert 1 not in reader.ended

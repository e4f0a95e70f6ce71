"""Self-tests of the harness pieces (Origin, Client, TestClock, metrics parsing), run without
the edgecache binary: the Client talks straight to the Origin."""

import email.utils
import threading
import time

from harness import Client, Origin, Reply, TestClock
from harness.client import request_bytes
from harness.edgecache import deep_merge, parse_metrics, sanitizer_report


def test_origin_records_requests_and_serves_scripted_reply(origin):
    origin.script("/a", Reply(201, {"X-Test": "yes", "Cache-Control": "max-age=60"}, b"hello"))
    with Client(origin.port) as client:
        response = client.request("POST", "/a?q=1", {"X-Req": "1"}, body=b"payload")
        assert response.status == 201
        assert response.header("X-Test") == "yes"
        assert response.body == b"hello"
        assert response.header("Date")
        other = client.get("/unscripted")
        assert other.status == 200
    [recorded] = origin.requests_for("/a")
    assert recorded.method == "POST"
    assert recorded.target == "/a?q=1"
    assert recorded.header("x-req") == "1"
    assert recorded.body == b"payload"
    assert origin.request_count() == 2
    assert origin.connections == 1


def test_origin_reply_sequences_and_callables(origin):
    origin.script("/seq", [Reply(body=b"one"), Reply(body=b"two")])
    origin.script("/echo", lambda req: Reply(body=req.header("X-Echo", "").encode()))
    with Client(origin.port) as client:
        assert [client.get("/seq").body for _ in range(3)] == [b"one", b"two", b"two"]
        assert client.get("/echo", {"X-Echo": "abc"}).body == b"abc"


def test_chunked_and_close_delimited_framing(origin):
    origin.script("/chunked", Reply(body=b"x" * 1000, framing="chunked", chunk_size=300))
    origin.script("/close", Reply(body=b"y" * 500, framing="close"))
    with Client(origin.port) as client:
        response = client.get("/chunked")
        assert response.header("Transfer-Encoding") == "chunked"
        assert response.body == b"x" * 1000
        response = client.get("/close")
        assert "Content-Length" not in response.headers
        assert response.body == b"y" * 500
        assert client.is_closed()


def test_chunked_request_body_is_decoded(origin):
    with Client(origin.port) as client:
        client.send(b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        assert client.read_response().status == 200
    assert origin.requests_for("/up")[0].body == b"abcde"


def test_delays_gate_and_streaming(origin):
    gate = threading.Event()
    origin.script("/slow", Reply(body=b"a" * 100, delay_before_headers=0.3))
    origin.script("/gated", Reply(body=b"0123456789", gate=gate, gate_after=4))
    with Client(origin.port) as client:
        started = time.monotonic()
        assert client.get("/slow").body == b"a" * 100
        assert time.monotonic() - started >= 0.3
        client.send(request_bytes("GET", "/gated"))
        client.read_head()
        assert client.reader.read_exact(4) == b"0123"
        assert client.read_some(timeout=0.3) is None  # nothing more until released
        gate.set()
        assert client.reader.read_exact(6) == b"456789"


def test_reset_is_seen_as_closed(origin):
    origin.script("/rst", Reply(reset_before_headers=True))
    origin.script("/mid", Reply(body=b"z" * 1000, reset_after=100))
    with Client(origin.port) as client:
        client.send(request_bytes("GET", "/rst"))
        assert client.read_all(timeout=2) == b""
    with Client(origin.port) as client:
        client.send(request_bytes("GET", "/mid"))
        data = client.read_all(timeout=2)
        assert data.startswith(b"HTTP/1.1 200")
        assert data.endswith(b"z" * 100)


def test_client_pipelining_and_one_byte_segments(origin):
    origin.script("/p", lambda req: Reply(body=req.target.encode()))
    with Client(origin.port) as client:
        client.send(request_bytes("GET", "/p?1") + request_bytes("GET", "/p?2"))
        assert [r.body for r in client.read_responses(2)] == [b"/p?1", b"/p?2"]
        client.send_slowly(request_bytes("GET", "/p?3"), segment=1)
        assert client.read_response().body == b"/p?3"
        assert not client.is_closed(timeout=0.2)


def test_clock_advances_origin_dates(clock):
    origin = Origin(clock)
    try:
        origin.script("/d", Reply(headers={"Last-Modified": "{now-100}", "Expires": "{now+60}"}))
        before = email.utils.parsedate_to_datetime(
            Client(origin.port).get("/d").header("Date")).timestamp()
        clock.advance(3600)
        response = Client(origin.port).get("/d")
        date = email.utils.parsedate_to_datetime(response.header("Date")).timestamp()
        assert 3599 <= date - before <= 3602
        assert email.utils.parsedate_to_datetime(response.header("Last-Modified")).timestamp() \
            == date - 100
        assert email.utils.parsedate_to_datetime(response.header("Expires")).timestamp() \
            == date + 60
    finally:
        origin.close()


def test_clock_expand():
    clock = TestClock()
    assert clock.expand("a {now} b") == "a %s b" % clock.http_date()
    assert clock.expand("{now+5}") == clock.http_date(5)


def test_metrics_parser():
    text = ('# HELP edgecache_requests_total Requests.\n# TYPE edgecache_requests_total counter\n'
            'edgecache_requests_total{status_class="2xx"} 3\n'
            'edgecache_requests_total{status_class="5xx"} 1\n'
            'edgecache_memory_bytes 1024\n'
            'edgecache_x{a="b,c",d="e"} 2.5\n')
    samples = parse_metrics(text)
    assert samples[("edgecache_requests_total", frozenset({("status_class", "2xx")}))] == 3
    assert samples[("edgecache_memory_bytes", frozenset())] == 1024
    assert samples[("edgecache_x", frozenset({("a", "b,c"), ("d", "e")}))] == 2.5


def test_deep_merge_and_sanitizer_markers():
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}}
    assert sanitizer_report("==1==ERROR: AddressSanitizer: heap-use-after-free")
    assert sanitizer_report("x.cc:3:4: runtime error: signed integer overflow")
    assert not sanitizer_report("all good")


FAKE_NODE = r'''#!/usr/bin/python3
# Stands in for edgecache in the harness self-test: reads the config, serves /healthz, and
# on request prints a sanitizer-looking line, so the wrapper's plumbing is exercised.
import http.server, signal, sys, yaml
config = yaml.safe_load(open(sys.argv[sys.argv.index("--config") + 1]))
host, port = config["admin"]["address"].rsplit(":", 1)
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok\n"
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def do_POST(self):
        sys.stderr.write("x.cc:1:2: runtime error: pretend\n"); sys.stderr.flush()
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer((host, int(port)), Handler)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
server.serve_forever()
'''


def test_edgecache_wrapper_with_a_fake_binary(tmp_path, monkeypatch, origin):
    from harness import Edgecache
    fake = tmp_path / "fake-edgecache"
    fake.write_text(FAKE_NODE)
    fake.chmod(0o755)
    monkeypatch.setenv("EDGECACHE_BIN", str(fake))
    node = Edgecache(tmp_path, origin, config={"cache": {"memory_size": "8MiB"}})
    node.start()
    assert node.config["services"][0]["origins"][0]["address"] == origin.address
    assert node.config["cache"]["memory_size"] == "8MiB"
    assert node.healthz()[0] == 200
    node.check_sanitizers()  # clean so far
    node.advance(30)  # the fake "reports" a sanitizer error on POST
    assert node.stop() == 0
    import pytest
    with pytest.raises(pytest.fail.Exception):
        node.check_sanitizers()

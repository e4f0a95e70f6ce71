"""Issue 5, HTTP/2 through real sockets: ALPN h2 with curl and h2load, caching identical over
HTTP/1.1 and HTTP/2 (one origin fetch serves both), 421 for a host the certificate does not
cover, the downgrade checks of http-hardening.md §F 24-26 (each refused stream never reaches
the origin), and every flood of §F 27 ending in GOAWAY ENHANCE_YOUR_CALM, counted. Hostile
frames are written by harness/h2raw.py (hpack from python3-h2's dependency)."""

import struct
import subprocess

import pytest

from harness import Reply
from harness.edgecache import NODE
from harness.h2raw import (CONTINUATION, DATA, END_HEADERS, END_STREAM, ENHANCE_YOUR_CALM, HEADERS,
                           PING, RST_STREAM, SETTINGS, WINDOW_UPDATE, H2Raw, frame)
from harness.tls import Pki, TlsClient, curl
from test_tls import CACHEABLE, metric, tls_config


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    pki = Pki(tmp_path_factory.mktemp("pki2"))
    pki.certs = {
        "default": pki.issue("default", ["default.test"], "ecdsa", "default"),
        "site_ecdsa": pki.issue("site-ecdsa", ["example.test", "www.example.test", "*.wiki.test"],
                                "ecdsa", "site-ecdsa"),
        "site_rsa": pki.issue("site-rsa", ["example.test", "www.example.test", "*.wiki.test"],
                              "rsa", "site-rsa"),
        "other": pki.issue("other", ["other.test"], "ecdsa", "other"),
    }
    return pki


@pytest.fixture
def node(start_edgecache, pki):
    return start_edgecache(config=tls_config(pki))


def test_issue_5_h2_with_curl_shares_the_cache_with_http11(node, pki, origin):
    origin.script("/a", Reply(200, CACHEABLE, b"hello h2"))
    code, out, err = curl(node.tls_port, "/a", pki.ca_cert, "example.test", "--http2")
    assert code == 0, err
    assert out.startswith("HTTP/2 200"), out
    assert "x-cache: %s miss" % NODE in out
    assert out.endswith("hello h2")
    with TlsClient(node.tls_port, pki.context()) as client:
        hit = client.get("/a", host="example.test:%d" % node.tls_port)  # curl's :authority
    assert hit.status == 200 and hit.body == b"hello h2"
    assert hit.header("X-Cache") == "%s hit" % NODE
    code, out, err = curl(node.tls_port, "/a", pki.ca_cert, "example.test", "--http2")
    assert "x-cache: %s hit" % NODE in out
    assert origin.request_count("/a") == 1
    [request] = origin.requests_for("/a")
    assert request.header("X-Forwarded-Proto") == "https"
    assert request.version == "HTTP/1.1"
    assert metric(node, "edgecache_http2_streams_total") == 2


def test_issue_5_h2_large_body_and_post(node, pki, origin):
    body = bytes(range(256)) * 2048  # 512 KiB: many windows
    origin.script("/big", Reply(200, CACHEABLE, body))
    origin.script("/post", Reply(200, {"Cache-Control": "no-store"}, b"posted"))
    with H2Raw(node.tls_port, pki.context()) as h2:
        h2.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 20)))
        h2.send(frame(HEADERS, END_STREAM | END_HEADERS, 1, h2.block(h2.request_headers(path="/big"))))
        status, headers, got = h2.response(1)
        assert status == 200 and got == body
        h2.send(frame(HEADERS, END_HEADERS, 3, h2.block(h2.request_headers(path="/post", method="POST"))))
        h2.send(frame(DATA, 0, 3, b"abc") + frame(DATA, END_STREAM, 3, b"def"))
        status, headers, got = h2.response(3)
        assert status == 200 and got == b"posted"
    [posted] = origin.requests_for("/post")
    assert posted.body == b"abcdef"
    # No content-length from the client: the body streamed, so it is chunked to the origin.
    assert posted.header("Transfer-Encoding") == "chunked"


def test_issue_5_h2load_all_requests_succeed(node, pki, origin):
    origin.script("/load", Reply(200, CACHEABLE, b"x" * 1024))
    done = subprocess.run(["h2load", "-n", "400", "-c", "4", "-m", "10",
                           "--connect-to=127.0.0.1:%d" % node.tls_port,
                           "https://example.test/load"], capture_output=True, timeout=120)
    out = done.stdout.decode()
    assert "400 succeeded, 0 failed, 0 errored" in out, out
    assert "status codes: 400 2xx" in out, out
    assert "Application protocol: h2" in out, out


def test_issue_5_misdirected_request_gets_421(node, pki, origin):
    origin.script("/m", Reply(200, CACHEABLE, b"m"))
    with H2Raw(node.tls_port, pki.context(), server_name="other.test") as h2:
        h2.send(frame(HEADERS, END_STREAM | END_HEADERS, 1, h2.block(h2.request_headers(path="/m"))))
        status, _, _ = h2.response(1)
        assert status == 421
        h2.send(frame(HEADERS, END_STREAM | END_HEADERS, 3,
                      h2.block(h2.request_headers(authority="other.test", path="/m"))))
        status, _, _ = h2.response(3)
        assert status == 200
    with H2Raw(node.tls_port, pki.context(), server_name="en.wiki.test") as h2:
        h2.send(frame(HEADERS, END_STREAM | END_HEADERS, 1,
                      h2.block(h2.request_headers(authority="fr.wiki.test", path="/m"))))
        assert h2.response(1)[0] == 200  # the wildcard covers it: coalescing is fine
    assert metric(node, "edgecache_http2_misdirected_total") == 1
    assert origin.request_count("/m") == 2  # other.test and fr.wiki.test; the 421 never left


DOWNGRADE_CASES = [
    ("crlf_in_value", [("x-foo", "bar\r\nTransfer-Encoding: chunked")]),
    ("nul_in_value", [("x-foo", "a\x00b")]),
    ("leading_space", [("x-foo", " bar")]),
    ("uppercase_name", [("X-Foo", "bar")]),
    ("connection", [("connection", "close")]),
    ("transfer_encoding", [("transfer-encoding", "chunked")]),
    ("upgrade", [("upgrade", "h2c")]),
    ("keep_alive", [("keep-alive", "5")]),
    ("te_gzip", [("te", "gzip")]),
    ("authority_vs_host", [("host", "evil.test")]),
]


@pytest.mark.parametrize("name,extra", DOWNGRADE_CASES, ids=[c[0] for c in DOWNGRADE_CASES])
def test_issue_5_h2_downgrade_checks_reset_the_stream(node, pki, origin, name, extra):
    origin.script("/d", Reply(200, CACHEABLE, b"d"))
    with H2Raw(node.tls_port, pki.context()) as h2:
        h2.send(frame(HEADERS, END_STREAM | END_HEADERS, 1,
                      h2.block(h2.request_headers(path="/d", extra=extra))))
        result = h2.response(1)
        assert result[0] == "reset", result
        # The connection is still good for the next request.
        h2.send(frame(HEADERS, END_STREAM | END_HEADERS, 3, h2.block(h2.request_headers(path="/d"))))
        assert h2.response(3)[0] == 200
    assert origin.request_count("/d") == 1


@pytest.mark.parametrize("path", ["/a b", "a/b", "/a\r\nHost: evil"], ids=["space", "no_slash", "crlf"])
def test_issue_5_h2_path_injection_is_refused(node, pki, origin, path):
    with H2Raw(node.tls_port, pki.context()) as h2:
        h2.send(frame(HEADERS, END_STREAM | END_HEADERS, 1, h2.block(h2.request_headers(path=path))))
        assert h2.response(1)[0] == "reset"
    assert origin.request_count() == 0


def test_issue_5_h2_content_length_must_match_data(node, pki, origin):
    with H2Raw(node.tls_port, pki.context()) as h2:
        h2.send(frame(HEADERS, END_HEADERS, 1, h2.block(h2.request_headers(
            path="/cl", method="POST", extra=[("content-length", "10")]))))
        h2.send(frame(DATA, END_STREAM, 1, b"abc"))
        assert h2.response(1)[0] == "reset"
    assert origin.request_count() == 0


def flood(node, pki, build):
    with H2Raw(node.tls_port, pki.context()) as h2:
        h2.send(build(h2))
        return h2.goaway_code()


def test_issue_5_rapid_reset_gets_enhance_your_calm(node, pki, origin):
    origin.script("/", Reply(200, CACHEABLE, b"r"))

    def build(h2):
        frames = b""
        for stream in range(1, 2000, 2):
            frames += frame(HEADERS, END_STREAM | END_HEADERS, stream, h2.block(h2.request_headers()))
            frames += frame(RST_STREAM, 0, stream, struct.pack(">I", 8))
        return frames
    assert flood(node, pki, build) == ENHANCE_YOUR_CALM
    assert metric(node, "edgecache_http2_enhance_your_calm_total", reason="rapid_reset") == 1


def test_issue_5_continuation_flood_gets_enhance_your_calm(node, pki):
    def build(h2):
        frames = frame(HEADERS, END_STREAM, 1, h2.block(h2.request_headers()))
        for _ in range(100):
            frames += frame(CONTINUATION, 0, 1, h2.block([("x-pad", "y" * 10)]))
        return frames
    assert flood(node, pki, build) == ENHANCE_YOUR_CALM
    assert metric(node, "edgecache_http2_enhance_your_calm_total", reason="continuation_flood") == 1


def test_issue_5_hpack_bomb_gets_enhance_your_calm(node, pki):
    def build(h2):
        block = h2.block(h2.request_headers())
        # One 4000-byte value put in the dynamic table, then referenced 100 times (1 byte each).
        block += bytes([0x40, 1]) + b"x" + bytes([0x7f, 0x80 | ((4000 - 127) & 0x7f), (4000 - 127) >> 7])
        block += b"v" * 4000 + bytes([0x80 | 62]) * 100
        return frame(HEADERS, END_STREAM | END_HEADERS, 1, block)
    assert flood(node, pki, build) == ENHANCE_YOUR_CALM
    assert metric(node, "edgecache_http2_enhance_your_calm_total", reason="hpack_bomb") == 1


@pytest.mark.parametrize("kind,payload_frame", [
    ("ping_flood", lambda: frame(PING, 0, 0, b"12345678")),
    ("settings_flood", lambda: frame(SETTINGS, 0, 0)),
    ("window_update_flood", lambda: frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1))),
])
def test_issue_5_control_frame_floods_get_enhance_your_calm(node, pki, kind, payload_frame):
    assert flood(node, pki, lambda h2: payload_frame() * 2000) == ENHANCE_YOUR_CALM
    assert metric(node, "edgecache_http2_enhance_your_calm_total", reason=kind) == 1
    assert node.healthz()[0] == 200


def test_issue_5_empty_data_flood_gets_enhance_your_calm(node, pki):
    def build(h2):
        frames = frame(HEADERS, END_HEADERS, 1, h2.block(h2.request_headers(method="POST", path="/e")))
        return frames + frame(DATA, 0, 1) * 1000
    assert flood(node, pki, build) == ENHANCE_YOUR_CALM
    assert metric(node, "edgecache_http2_enhance_your_calm_total", reason="empty_data_flood") == 1


def test_issue_5_recycled_streams_answer_each_response_exactly(node, pki, origin):
    """Streams are recycled per connection (h2perf): one connection runs responses of every
    shape in turn (a large miss that streams, then small hits, HEAD, 304, a chunked pass, a
    404, a 1xx-free raw origin head with odd spacing) so each stream object serves a different
    kind after the last; every answer must be exact, with lower-case names and no
    connection-specific fields."""
    big = bytes(range(256)) * 1200  # 300 KiB: many DATA frames, buffers beyond what is kept
    origin.script("/r-big", Reply(200, CACHEABLE, big))
    origin.script("/r-small", Reply(200, dict(CACHEABLE, ETag='"v1"'), b"small"))
    origin.script("/r-chunked", Reply(200, {"Cache-Control": "no-store"}, b"c" * 5000,
                                      framing="chunked", chunk_size=1000))
    origin.script("/r-missing", Reply(404, {"Cache-Control": "no-store"}, b"nope"))
    origin.script("/r-raw", Reply(raw=b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                                      b"Cache-Control:    max-age=60   \r\nX-Odd:\tv\r\n"
                                      b"X-Bound^_`-AZ-az-09~|Long-Name: b\r\n\r\nraw"))
    plan = [("GET", "/r-big", (), 200, big), ("GET", "/r-small", (), 200, b"small"),
            ("GET", "/r-small", (), 200, b"small"), ("HEAD", "/r-small", (), 200, b""),
            ("GET", "/r-small", (("if-none-match", '"v1"'),), 304, b""),
            ("GET", "/r-chunked", (), 200, b"c" * 5000), ("GET", "/r-missing", (), 404, b"nope"),
            ("GET", "/r-raw", (), 200, b"raw"), ("GET", "/r-big", (), 200, big),
            ("GET", "/r-small", (), 200, b"small"), ("GET", "/r-raw", (), 200, b"raw")]
    with H2Raw(node.tls_port, pki.context()) as h2:
        h2.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 22)))
        for round_ in range(2):
            for i, (method, path, extra, want_status, want_body) in enumerate(plan):
                stream = 1 + 2 * (round_ * len(plan) + i)
                h2.send(frame(HEADERS, END_STREAM | END_HEADERS, stream,
                              h2.block(h2.request_headers(path=path, method=method, extra=extra))))
                status, headers, body = h2.response(stream)
                assert (status, body) == (want_status, want_body), (round_, path, status, headers)
                assert all(name == name.lower() for name in headers), headers
                assert not {"connection", "transfer-encoding", "keep-alive"} & set(headers)
                if want_status == 200 and path != "/r-chunked":
                    want_length = len(want_body) if method == "GET" else 5
                    assert headers.get("content-length") == str(want_length), (path, headers)
                if path == "/r-raw":
                    assert headers["cache-control"] == "max-age=60" and headers["x-odd"] == "v"
                    assert headers["x-bound^_`-az-az-09~|long-name"] == "b", headers
        # Many streams at once: 60 concurrent requests for the small hit, then for the raw one.
        base = 1 + 2 * 2 * len(plan)
        for k in range(60):
            path = "/r-small" if k % 2 == 0 else "/r-raw"
            h2.send(frame(HEADERS, END_STREAM | END_HEADERS, base + 2 * k,
                          h2.block(h2.request_headers(path=path))))
        got, done = {}, set()
        while len(done) < 60:
            received = h2.read_frame()
            assert received is not None, "connection closed"
            ftype, flags, sid, payload = received
            if ftype == HEADERS:
                h2.decoder.decode(payload)  # keeps the HPACK table in step
            elif ftype == DATA:
                got[sid] = got.get(sid, b"") + payload
            if ftype in (HEADERS, DATA) and flags & END_STREAM:
                done.add(sid)
        for k in range(60):
            assert got[base + 2 * k] == (b"small" if k % 2 == 0 else b"raw"), k
    assert origin.request_count("/r-big") == 1 and origin.request_count("/r-small") == 1
    assert origin.request_count("/r-chunked") == 2


def test_issue_5_a_repeated_head_is_answered_like_the_first(node, pki, origin):
    """hitpath: a connection remembers the last response head it scanned, and a head with the
    same bytes (the next hit on the object) reuses the scan. The reused answer must be the
    scanned one field for field; a HEAD with the same head has no body; once the head changes
    (Age moves when the clock does) the new bytes are scanned, not the remembered ones."""
    origin.script("/memo", Reply(200, dict(CACHEABLE, ETag='"m1"', **{"X-Extra": "Some Value"}),
                                 b"memo body"))
    node.freeze_clock()
    with H2Raw(node.tls_port, pki.context()) as h2:
        answers = []
        stream = 1
        for method, advance in (("GET", 0), ("GET", 0), ("GET", 0), ("HEAD", 0), ("GET", 7),
                                ("GET", 0)):
            node.advance(advance)
            h2.send(frame(HEADERS, END_STREAM | END_HEADERS, stream,
                          h2.block(h2.request_headers(path="/memo", method=method))))
            answers.append(h2.response(stream))
            stream += 2
    (s0, h0, b0), (s1, h1, b1), (s2, h2_, b2), (s3, h3, b3), (s4, h4, b4), (s5, h5, b5) = answers
    assert (s0, b0) == (200, b"memo body") and h0["x-cache"].endswith("miss")
    assert (s1, b1) == (s2, b2) == (s5, b5) == (s4, b4) == (200, b"memo body")
    assert h1 == h2_, (h1, h2_)  # the remembered scan gives the same fields
    assert h1["x-extra"] == "Some Value" and h1["content-length"] == "9" and h1["etag"] == '"m1"'
    assert (s3, b3) == (200, b"") and h3 == h1  # HEAD: same fields, no body
    assert h4["age"] == str(int(h1["age"]) + 7) and h5 == h4
    assert origin.request_count("/memo") == 1

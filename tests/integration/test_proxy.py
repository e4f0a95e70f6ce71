"""Core proxy behaviour through real sockets: miss then hit, coalescing, streaming in both
directions, pipelining, ranges from cache, origin failures, admin endpoints."""

import hashlib
import socket
import threading
import time
import urllib.request

import pytest

from harness import Client, Reply, wait_for
from harness.client import request_bytes
from harness.edgecache import NODE
from harness.wire import read_chunked

CACHEABLE = {"Cache-Control": "public, max-age=300", "ETag": '"v1"', "Content-Type": "text/plain"}


def test_miss_then_hit_with_one_origin_request(edgecache, origin):
    origin.script("/a", Reply(200, CACHEABLE, b"hello world"))
    first = edgecache.get("/a")
    second = edgecache.get("/a")
    assert first.status == second.status == 200
    assert first.body == second.body == b"hello world"
    assert origin.request_count("/a") == 1
    assert first.header("X-Cache") == "%s miss" % NODE
    assert second.header("X-Cache") == "%s hit" % NODE
    assert first.header("X-Cache-Status") == "miss"
    assert second.header("X-Cache-Status") == "hit-front"
    assert second.header("Age") is not None and int(second.header("Age")) >= 0


def test_x_cache_is_appended_to_upstream(edgecache, origin):
    origin.script("/layered", Reply(200, dict(CACHEABLE, **{"X-Cache": "cp1001 miss"}), b"x"))
    assert edgecache.get("/layered").header("X-Cache") == "cp1001 miss, %s miss" % NODE
    assert edgecache.get("/layered").header("X-Cache") == "cp1001 miss, %s hit" % NODE


def test_every_answer_carries_a_date_even_when_the_origin_sent_none(edgecache, origin):
    # RFC 9110 §6.6.1: a cache that stores or forwards a response without Date adds the time
    # it received it; answers edgecache makes itself carry one as an origin server's would.
    edgecache.freeze_clock()
    origin.script("/dateless", Reply(200, CACHEABLE, b"d", date=False))
    origin.script("/dateless-pass", Reply(200, {"Cache-Control": "no-store"}, b"p", date=False))
    miss = edgecache.get("/dateless")
    stamped = miss.header("Date")
    assert stamped == edgecache.clock.http_date()
    edgecache.advance(5)
    hit = edgecache.get("/dateless")
    assert hit.header("X-Cache-Status") == "hit-front"
    assert hit.header("Date") == stamped  # the receipt time travels with the object
    assert hit.header("Age") == "5"
    passed = edgecache.get("/dateless-pass")
    assert passed.header("X-Cache-Status") == "pass"
    assert passed.header("Date") == edgecache.clock.http_date()
    # The origin's own Date is forwarded, never doubled.
    origin.script("/dated", Reply(200, CACHEABLE, b"o"))
    dated = edgecache.get("/dated")
    assert len([v for k, v in dated.headers.items if k.lower() == "date"]) == 1
    # Local answers: a refused request and the admin listener.
    with socket.create_connection(("127.0.0.1", edgecache.port)) as raw:
        raw.sendall(b"GET / HTTP/1.1\r\n\r\n")  # no Host: 400
        answer = raw.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 400"), answer
    assert "\r\nDate: " in answer
    req = urllib.request.Request("http://127.0.0.1:%d/healthz" % edgecache.admin_port)
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.headers.get("Date")


def test_private_response_is_passed(edgecache, origin):
    origin.script("/private", Reply(200, {"Cache-Control": "private, max-age=60"}, b"mine"))
    edgecache.get("/private")
    edgecache.get("/private")
    assert origin.request_count("/private") == 2


@pytest.mark.slow
def test_100_concurrent_clients_on_cold_key_make_one_origin_request(edgecache, origin):
    body = hashlib.sha256(b"cold").hexdigest().encode() * 2000
    origin.script("/cold", Reply(200, CACHEABLE, body, delay_before_headers=1.0))
    results = [None] * 100
    barrier = threading.Barrier(100)

    def fetch(i):
        with Client(edgecache.port, timeout=30) as client:
            barrier.wait()
            results[i] = client.get("/cold")

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert origin.request_count("/cold") == 1
    assert all(r is not None and r.status == 200 and r.body == body for r in results)
    assert edgecache.metric("edgecache_cache_lookups_total", result="coalesced") >= 1


@pytest.mark.slow
def test_50mib_response_reaches_client_before_origin_finishes(start_edgecache, origin):
    node = start_edgecache(config={"cache": {"memory_size": "256MiB"}})
    size = 50 << 20
    body = bytes(range(256)) * (size // 256)
    gate = threading.Event()
    origin.script("/huge", Reply(200, CACHEABLE, body, chunk_size=1 << 20, gate=gate,
                                 gate_after=size // 2))
    with Client(node.port, timeout=30) as client:
        client.send(request_bytes("GET", "/huge"))
        _, status, _, headers = client.read_head()
        assert status == 200
        first = client.read_some(timeout=20)
        assert first, "no body bytes while the origin is paused mid-body"
        assert not gate.is_set()
        gate.set()
        rest = client.reader.read_exact(size - len(first)) if "Content-Length" in headers else None
        if rest is None:  # chunked toward the client
            client.reader.buffer = first + client.reader.buffer
            received, _ = read_chunked(client.reader)
        else:
            received = first + rest
    assert hashlib.sha256(received).digest() == hashlib.sha256(body).digest()


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_chunked_and_close_delimited_responses_stream_through(edgecache, origin, framing):
    gate = threading.Event()
    body = b"".join(b"line %05d\n" % i for i in range(5000))
    origin.script("/f", Reply(200, {"Cache-Control": "max-age=60"}, body, framing=framing,
                              chunk_size=4096, gate=gate, gate_after=8192))
    with Client(edgecache.port, timeout=15) as client:
        client.send(request_bytes("GET", "/f"))
        client.read_head()
        assert client.read_some(timeout=10), "nothing streamed while origin paused"
        gate.set()
    response = edgecache.get("/f")  # a complete copy, from cache or origin
    assert response.body == body


def test_post_body_streams_to_origin(edgecache, origin):
    origin.script("/upload", lambda req: Reply(200, {}, hashlib.sha256(req.body).hexdigest()))
    payload = bytes(range(256)) * 8192  # 2 MiB
    # The first MiB of a body is read and checked whole before anything reaches the origin
    # (a malformed body is refused, never half-forwarded); beyond it the body streams.
    first = (1 << 20) + 65536
    with Client(edgecache.port, timeout=20) as client:
        client.send(b"POST /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: %d\r\n\r\n"
                    % len(payload) + payload[:first])
        deadline = time.monotonic() + 5
        while origin.heads_seen == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert origin.heads_seen == 1, "origin saw nothing before the body was complete"
        client.send(payload[first:])
        response = client.read_response()
    assert response.body.decode() == hashlib.sha256(payload).hexdigest()
    # A chunked request body arrives intact too (re-framed as the proxy likes).
    with Client(edgecache.port) as client:
        client.send(b"POST /upload HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked"
                    b"\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n")
        assert client.read_response().body.decode() == hashlib.sha256(b"abcdefg").hexdigest()


def test_upload_to_a_stalled_origin_is_held_back_not_buffered(start_edgecache, tmp_path):
    """An origin that stops reading makes edgecache stop reading the client (bounded memory),
    and the upload completes intact once the origin reads again."""
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    received = hashlib.sha256()
    release = threading.Event()

    def serve():
        conn, _ = listener.accept()
        head = b""
        while b"\r\n\r\n" not in head:
            head += conn.recv(1)
        length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0]
                     .split(b":")[1])
        release.wait(30)  # stalled: reads nothing until the test has measured
        left = length
        while left:
            piece = conn.recv(min(left, 1 << 20))
            if not piece:
                break
            received.update(piece)
            left -= len(piece)
        body = received.hexdigest().encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        conn.close()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    node = start_edgecache(config={"services": [{
        "name": "slow", "hosts": ["*"], "origins": [{"address": "127.0.0.1:%d" % port}]}]})
    size = 64 << 20
    payload = bytes(range(256)) * (size // 256)
    sent = [0]
    client = socket.create_connection(("127.0.0.1", node.port))
    client.sendall(b"POST /up HTTP/1.1\r\nHost: example.test\r\nContent-Length: %d\r\n\r\n" % size)

    def upload():
        view = memoryview(payload)
        while sent[0] < size:
            sent[0] += client.send(view[sent[0]:sent[0] + (1 << 20)])

    uploader = threading.Thread(target=upload, daemon=True)
    uploader.start()
    time.sleep(2)
    stalled_at = sent[0]
    # Socket buffers on loopback hold some MiB on each hop; without backpressure the whole
    # 64 MiB would be taken in by the proxy within the two seconds.
    assert stalled_at < size // 2, "proxy kept reading: %d of %d bytes taken" % (stalled_at, size)
    release.set()
    uploader.join(30)
    response = b""
    client.settimeout(30)
    while b"\r\n\r\n" not in response:
        response += client.recv(4096)
    head, body = response.split(b"\r\n\r\n", 1)
    length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0]
                 .split(b":")[1])
    while len(body) < length:
        body += client.recv(4096)
    response = head + b"\r\n\r\n" + body
    client.close()
    assert response.startswith(b"HTTP/1.1 200"), response[:200]
    assert hashlib.sha256(payload).hexdigest().encode() in response


def test_pipelined_and_one_byte_segments_give_identical_results(edgecache, origin):
    origin.script("/p1", Reply(200, CACHEABLE, b"first"))
    origin.script("/p2", Reply(200, {"Cache-Control": "no-store"}, b"second"))
    wire = request_bytes("GET", "/p1") + request_bytes("GET", "/p2")
    with Client(edgecache.port) as client:
        client.send(wire)
        together = client.read_responses(2)
    with Client(edgecache.port) as client:
        client.send_slowly(wire, segment=1)
        slowly = client.read_responses(2)
    assert [r.body for r in together] == [r.body for r in slowly] == [b"first", b"second"]
    assert [r.status for r in together] == [r.status for r in slowly] == [200, 200]


def test_range_requests_are_served_from_cache(edgecache, origin):
    body = bytes(range(256)) * 4
    origin.script("/r", Reply(200, CACHEABLE, body))
    assert edgecache.get("/r").body == body
    single = edgecache.get("/r", {"Range": "bytes=10-19"})
    assert single.status == 206
    assert single.header("Content-Range") == "bytes 10-19/1024"
    assert single.body == body[10:20]
    suffix = edgecache.get("/r", {"Range": "bytes=-4"})
    assert suffix.body == body[-4:]
    multi = edgecache.get("/r", {"Range": "bytes=0-1,100-101"})
    assert multi.status == 206
    assert multi.header("Content-Type").startswith("multipart/byteranges")
    assert body[0:2] in multi.body and body[100:102] in multi.body
    stale_if_range = edgecache.get("/r", {"Range": "bytes=0-9", "If-Range": '"other"'})
    assert stale_if_range.status == 200 and stale_if_range.body == body
    unsatisfiable = edgecache.get("/r", {"Range": "bytes=5000-"})
    assert unsatisfiable.status == 416
    many = edgecache.get("/r", {"Range": "bytes=" + ",".join(["0-0"] * 500)})
    assert many.status in (200, 206, 416)
    assert many.body.count(b"Content-Range") <= 16 or many.status != 206
    assert origin.request_count("/r") == 1


def test_unkeyed_forwarding_headers_cannot_poison_the_cache(edgecache, origin):  # E20
    origin.script("/poison", lambda req: Reply(200, CACHEABLE, "host=%s" % (
        req.header("X-Forwarded-Host") or req.header("X-Host") or "-")))
    edgecache.get("/poison", {"X-Forwarded-Host": "evil.test", "X-Host": "evil.test"})
    assert b"evil" not in edgecache.get("/poison").body


def test_set_cookie_and_authorization_are_not_shared(edgecache, origin):  # E22
    origin.script("/cookie", Reply(200, dict(CACHEABLE, **{"Set-Cookie": "s=1"}), b"c"))
    edgecache.get("/cookie")
    edgecache.get("/cookie")
    assert origin.request_count("/cookie") == 2
    origin.script("/auth", lambda req: Reply(200, {"Cache-Control": "max-age=60"},
                                             req.header("Authorization") or "anon"))
    assert edgecache.get("/auth", {"Authorization": "Bearer t"}).body == b"Bearer t"
    assert edgecache.get("/auth").body == b"anon"


def test_refused_origin_gives_502_and_node_keeps_serving(start_edgecache, origin):
    node = start_edgecache(config={"services": [{"name": "down", "hosts": ["*"],
                                                 "origins": [{"address": "127.0.0.1:1"}]}]})
    response = node.get("/any")
    assert response.status == 502
    assert node.metric("edgecache_origin_errors_total") >= 1
    assert node.healthz()[0] == 200
    assert node.get("/again").status == 502


def test_reset_gives_502_and_timeout_gives_504(start_edgecache, origin):
    node = start_edgecache(config={"services": [{
        "name": "default", "hosts": ["*"],
        "origins": [{"address": origin.address, "first_byte_timeout": "1s"}]}]})
    origin.script("/reset", Reply(reset_before_headers=True))
    origin.script("/slow", Reply(200, CACHEABLE, b"late", delay_before_headers=4))
    origin.script("/fine", Reply(200, CACHEABLE, b"fine"))
    assert node.get("/reset").status == 502
    started = time.monotonic()
    assert node.get("/slow").status == 504
    assert time.monotonic() - started < 3.5
    assert node.get("/fine").body == b"fine"


def test_truncated_origin_body_is_not_cached(edgecache, origin):  # D19
    origin.script("/trunc", [Reply(200, CACHEABLE, b"x" * 10000, reset_after=3000),
                             Reply(200, CACHEABLE, b"y" * 10000)])
    with Client(edgecache.port) as client:
        client.send(request_bytes("GET", "/trunc"))
        data = client.read_all(timeout=5)
        assert len(data) < 10000 + 200  # never a complete-looking body
    assert edgecache.get("/trunc").body == b"y" * 10000
    assert origin.request_count("/trunc") == 2


@pytest.mark.parametrize("raw", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nX-Bad: a\rSet-Cookie: evil=1\r\nContent-Length: 5\r\n\r\nhello",
], ids=["dup-cl", "cl-and-te", "bad-cl", "bare-cr-in-field"])
def test_malformed_upstream_response(edgecache, origin, raw):  # D19
    origin.script("/bad", Reply(raw=raw))
    response = edgecache.get("/bad")
    assert response.status == 502 or ("evil" not in str(response.headers.items) and
                                       response.status == 200)


def test_healthz_and_metrics(edgecache, origin):
    assert edgecache.healthz() == (200, edgecache.healthz()[1])
    assert edgecache.healthz()[1].strip() == "ok"
    origin.script("/m", Reply(200, CACHEABLE, b"m"))
    edgecache.get("/m")
    edgecache.get("/m")
    assert edgecache.metric("edgecache_requests_total", status_class="2xx") >= 2
    assert edgecache.metric("edgecache_cache_lookups_total", result="hit") >= 1
    assert edgecache.metric("edgecache_cache_lookups_total", result="miss") >= 1
    assert edgecache.metric("edgecache_origin_requests_total") >= 1
    assert edgecache.metric("edgecache_memory_objects") >= 1
    assert edgecache.metric("edgecache_memory_bytes") > 0
    with Client(edgecache.port) as client:
        client.send(b"GET / HTTP/1.1\r\n\r\n")
        client.read_response()
    assert edgecache.metric("edgecache_parse_errors_total") >= 1


def test_large_hits_are_sent_by_reference_and_arrive_intact(edgecache, origin):
    """Bodies in page-mapped chunks go out through vmsplice + splice (no copy): whole hits,
    ranges and pipelined hits must carry exactly the origin's bytes, also to a slow reader."""
    body = hashlib.sha256(b"seed").digest() * (3 * 1024 * 1024 // 32)  # 3 MiB
    origin.script("/big", Reply(200, CACHEABLE, body))
    assert edgecache.get("/big").body == body  # miss: stored
    before = edgecache.metric("edgecache_client_bytes_spliced_total")
    hit = edgecache.get("/big")
    assert hit.header("X-Cache-Status") == "hit-front" and hit.body == body
    ranged = edgecache.get("/big", {"Range": "bytes=100000-2999999"})
    assert ranged.status == 206 and ranged.body == body[100000:3000000]
    multi = edgecache.get("/big", {"Range": "bytes=0-99999,2000000-2099999"})
    assert multi.status == 206
    assert body[0:100000] in multi.body and body[2000000:2100000] in multi.body
    # Two pipelined hits on one connection, read slowly: the pipe holds bytes across many
    # EPOLLOUT rounds and the second response must follow the first exactly.
    with Client(edgecache.port) as client:
        client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        client.send(request_bytes("GET", "/big") + request_bytes("GET", "/big"))
        time.sleep(0.3)
        first, second = client.read_response(), client.read_response()
    assert first.body == body and second.body == body
    assert origin.request_count("/big") == 1
    spliced = edgecache.metric("edgecache_client_bytes_spliced_total") - before
    assert spliced >= 3 * len(body)  # hit + range + two pipelined hits, nearly all spliced


def test_memory_tier_charges_whole_bodies_and_stays_in_bound(start_edgecache, origin):
    """Objects are stored when their head arrives; the body's bytes must be charged as they
    come, or a tier would hold many times its size (found by the disk-vs-ATS bench)."""
    # 16 shards of 1 MiB each: a 256 KiB object fits a shard, 4 of them fill it.
    node = start_edgecache(config={"cache": {"memory_size": "16MiB", "max_object_size": "1MiB"}})
    body = b"m" * (256 * 1024)
    for i in range(100):  # 25 MiB of bodies through a 16 MiB tier
        origin.script("/bound%d" % i, Reply(200, CACHEABLE, body))
        assert node.get("/bound%d" % i).body == body
    held = node.metric("edgecache_memory_bytes")
    objects = node.metric("edgecache_memory_objects")
    assert held <= 16 * 1024 * 1024
    assert objects >= 1 and held >= objects * len(body)  # each object charged its whole body
    assert node.metric("edgecache_memory_evictions_total") >= 30


def _one_shot_origin(after_response):
    """A raw origin that answers each connection's first request (keep-alive), then calls
    after_response(conn) and keeps reading; returns (listener, connections accepted list)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []

    def serve(conn):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        body = b"pooled"
        conn.sendall(b"HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nContent-Length: %d\r\n\r\n%s"
                     % (len(body), body))
        try:
            after_response(conn)
        except OSError:
            pass  # the test ended and closed the connection first

    def accept_loop():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(conn)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    return listener, accepted



@pytest.mark.parametrize("how", ["close", "stray_bytes"])
def test_idle_origin_connection_closed_by_origin_is_dropped_at_once(start_edgecache, how):
    # Idle pooled connections stay watched: when the origin closes one (or writes to it
    # unasked), edgecache closes it right away, counts it, and the next request connects
    # afresh without a failed attempt or a retry.
    def after_response(conn):
        time.sleep(0.2)
        if how == "close":
            conn.shutdown(socket.SHUT_WR)
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray")
    listener, accepted = _one_shot_origin(after_response)
    try:
        address = "127.0.0.1:%d" % listener.getsockname()[1]
        node = start_edgecache(config={"services": [{"name": "default", "hosts": ["*"],
                                                     "origins": [{"address": address}]}]})
        assert node.get("/first").body == b"pooled"
        assert wait_for(lambda: node.metric("edgecache_origin_connections_total",
                                             kind="closed_idle") == 1)
        assert node.metric("edgecache_origin_connections_open") == 0
        second = node.get("/second")
        assert second.status == 200 and second.body == b"pooled"
        assert len(accepted) == 2
        assert node.metric("edgecache_origin_connections_total", kind="new") == 2
        assert node.metric("edgecache_origin_connections_total", kind="reused") == 0
        assert node.metric("edgecache_origin_errors_total") == 0
    finally:
        listener.close()
        for conn in accepted:
            conn.close()


def test_idle_origin_connection_is_reused_without_a_peek(start_edgecache, origin):
    # A healthy idle connection is handed to the next request as is (one connection for all).
    node = start_edgecache(config={"services": [{"name": "default", "hosts": ["*"],
                                                 "origins": [{"address": origin.address}]}]})
    for i in range(5):
        assert node.get("/reuse/%d" % i).status == 200
    assert origin.connections == 1
    assert node.metric("edgecache_origin_connections_total", kind="reused") == 4
    assert node.metric("edgecache_origin_connections_total", kind="closed_idle") == 0


def test_requests_pipelined_or_half_closed_during_a_slow_miss(edgecache, origin):
    # While a miss is fetched the connection reads nothing more, but the read interest is only
    # dropped once the client speaks: a request pipelined (or a FIN) behind a slow miss must
    # still be answered in order, once, and the node must not spin on the waiting bytes.
    origin.script("/slow-miss", Reply(200, CACHEABLE, b"slow", delay_before_headers=0.5))
    origin.script("/behind", Reply(200, CACHEABLE, b"behind"))
    with Client(edgecache.port) as client:
        client.send(request_bytes("GET", "/slow-miss"))
        time.sleep(0.1)  # the miss is in flight when the next request arrives
        client.send(request_bytes("GET", "/behind"))
        first, second = client.read_responses(2)
    assert (first.status, first.body, second.status, second.body) == (200, b"slow", 200, b"behind")
    origin.script("/slow-miss-2", Reply(200, CACHEABLE, b"slow too", delay_before_headers=0.5))
    with Client(edgecache.port) as client:
        client.send(request_bytes("GET", "/slow-miss-2"))
        time.sleep(0.1)
        client.sock.shutdown(socket.SHUT_WR)  # the client is done sending, not reading
        response = client.read_response()
    assert (response.status, response.body) == (200, b"slow too")
    assert origin.request_count("/slow-miss") == origin.request_count("/behind") == 1
    assert edgecache.healthz()[0] == 200


def _big_object_node(start_edgecache, origin, size):
    body = hashlib.sha256(b"seed").digest() * (size // 32)
    origin.script("/big", Reply(200, CACHEABLE, body))
    node = start_edgecache(config={"limits": {"idle_timeout": "1s", "send_timeout": "2s"},
                                   "cache": {"memory_size": "1GiB", "max_object_size": "64MiB"}})
    assert node.get("/big").body == body  # stored: the next GET is a memory hit
    return node, body


def _small_buffer_connection(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)  # the server blocks soon
    sock.connect(("127.0.0.1", port))
    sock.settimeout(15)
    return sock


def test_a_slow_download_outlasts_the_idle_timeout(start_edgecache, origin):
    # A hit's whole body is queued at once and the request ends there; the connection is not
    # idle while the client still downloads (it used to be closed after idle_timeout, cutting
    # the body). 16 MiB at ~4 MiB/s takes ~4 s against a 1 s idle timeout.
    node, body = _big_object_node(start_edgecache, origin, 16 << 20)
    sock = _small_buffer_connection(node.port)
    try:
        sock.sendall(request_bytes("GET", "/big"))
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(65536)
        head, _, received = received.partition(b"\r\n\r\n")
        assert b" 200 " in head.split(b"\r\n")[0] and b"hit" in head
        while len(received) < len(body):
            chunk = sock.recv(256 * 1024)
            assert chunk, "closed after %d of %d bytes" % (len(received), len(body))
            received += chunk
            time.sleep(0.05)
        assert received == body
    finally:
        sock.close()
    assert node.metric("edgecache_client_send_timeouts_total") == 0


def test_a_client_that_stops_reading_is_closed_after_the_send_timeout(start_edgecache, origin):
    # Slow-read defence: no byte taken for send_timeout (2 s here) closes the connection,
    # counted; the node keeps serving everyone else.
    node, body = _big_object_node(start_edgecache, origin, 32 << 20)
    sock = _small_buffer_connection(node.port)
    try:
        sock.sendall(request_bytes("GET", "/big"))
        assert wait_for(lambda: node.metric("edgecache_client_send_timeouts_total") == 1,
                         timeout=10)
        received = 0
        try:
            while True:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                received += len(chunk)
        except ConnectionResetError:
            pass
        assert received < len(body)  # cut off, never completed
    finally:
        sock.close()
    assert node.get("/big").body == body


def _read_response(sock):
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, "closed before a response head"
        received += chunk
    head, _, rest = received.partition(b"\r\n\r\n")
    length = int([line.split(b":", 1)[1] for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:")][0])
    while len(rest) < length:
        rest += sock.recv(65536)
    return head, rest


def _closed_within(sock, seconds):
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def test_the_idle_deadline_moves_with_each_request(start_edgecache, origin):
    # The idle timer is not re-armed per request: it fires at the deadline it was armed for
    # and, finding that a later request moved the deadline, waits again (lazy re-arm). The
    # connection must still close idle_timeout after the end of its LAST answer, never earlier.
    origin.script("/idle", Reply(200, CACHEABLE, b"idle body"))
    node = start_edgecache(config={"limits": {"idle_timeout": "1500ms"}})
    assert node.get("/idle").body == b"idle body"
    sock = socket.create_connection(("127.0.0.1", node.port))
    try:
        sock.sendall(request_bytes("GET", "/idle"))
        assert _read_response(sock)[1] == b"idle body"
        time.sleep(1.0)  # 1.0 s idle of 1.5 s
        sock.sendall(request_bytes("GET", "/idle"))
        assert _read_response(sock)[1] == b"idle body"
        # The first deadline (1.5 s after the first answer) passes here: still open.
        assert not _closed_within(sock, 1.0)
        sock.sendall(request_bytes("GET", "/idle"))
        assert _read_response(sock)[1] == b"idle body"
        started = time.monotonic()
        assert _closed_within(sock, 5.0)
        assert 1.2 < time.monotonic() - started < 3.5
    finally:
        sock.close()


def test_a_partial_head_after_keep_alive_still_gets_the_header_timeout(start_edgecache, origin):
    # A keep-alive connection holds the (long) idle deadline; a request head that then starts
    # and never ends must get the (shorter) header deadline, earlier than the armed timer.
    origin.script("/partial", Reply(200, CACHEABLE, b"partial"))
    node = start_edgecache(config={"limits": {"idle_timeout": "30s", "header_timeout": "1s"}})
    sock = socket.create_connection(("127.0.0.1", node.port))
    try:
        sock.sendall(request_bytes("GET", "/partial"))
        assert _read_response(sock)[1] == b"partial"
        sock.sendall(b"GET /partial HTTP/1.1\r\nHost: a")
        started = time.monotonic()
        sock.settimeout(10)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        assert data.startswith(b"HTTP/1.1 408 ")
        assert time.monotonic() - started < 5
    finally:
        sock.close()
    assert node.metric("edgecache_header_timeouts_total") >= 1

"""Issue 5, HTTP/2 request bodies stream to the origin: a 100 MiB POST with curl --http2
arrives whole (chunked toward the HTTP/1.1 origin) while edgecache's memory stays far below
the body's size; with an origin that stops reading, flow control stops the client after a
bounded amount (the window opens only as the origin consumes); trailers are dropped toward the
HTTP/1.1 origin; DATA disagreeing with content-length resets the stream (RFC 9113 §8.1.1);
a GET with a body keeps the buffered, cacheable path."""

import hashlib
import os
import socket
import struct
import subprocess
import threading
import time

import pytest

from harness import Reply
from harness.h2raw import (DATA, END_HEADERS, END_STREAM, HEADERS, RST_STREAM, SETTINGS,
                           WINDOW_UPDATE, H2Raw, frame)
from harness.tls import sitePki
from test_tls import CACHEABLE, metric, tls_config


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return sitePki(tmp_path_factory.mktemp("pki-h2body"))


def high_water_kib(node):
    with open("/proc/%d/status" % node.process.pid) as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_issue_5_h2_post_of_100_mib_streams_with_bounded_memory(start_edgecache, pki, origin,
                                                               tmp_path, monkeypatch):
    # A small ASan quarantine, so freed buffers do not look like held ones.
    monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:quarantine_size_mb=8")
    size = 100 << 20
    chunk = os.urandom(1 << 20)
    upload = tmp_path / "upload.bin"
    digest = hashlib.sha256()
    with open(upload, "wb") as out:
        for i in range(100):
            piece = chunk[i:] + chunk[:i]
            out.write(piece)
            digest.update(piece)
    origin.script("/upload", lambda request: Reply(200, {"Cache-Control": "no-store"},
                                                   b"%d %s" % (len(request.body),
                                                               hashlib.sha256(request.body).hexdigest().encode())))
    node = start_edgecache(config=tls_config(pki))
    assert node.get("/warm").status == 200
    before = high_water_kib(node)
    command = ["curl", "-sS", "--http2", "--max-time", "240", "--cacert", pki.ca_cert,
               "--resolve", "example.test:%d:127.0.0.1" % node.tls_port,
               "-H", "Content-Type: application/octet-stream", "-H", "Expect:",
               "--data-binary", "@%s" % upload, "https://example.test:%d/upload" % node.tls_port]
    done = subprocess.run(command, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == "%d %s" % (size, digest.hexdigest())
    [request] = origin.requests_for("/upload")
    assert request.header("Content-Length") == str(size)  # curl declared it: passed on
    grown_mib = (high_water_kib(node) - before) / 1024
    print("100 MiB h2 upload: edgecache peak RSS grew %.1f MiB" % grown_mib)
    assert grown_mib < 40, "edgecache's peak RSS grew by %.0f MiB for a 100 MiB body" % grown_mib


def stalled_origin():
    """An origin that reads the request head and then nothing more."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    held = []

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            held.append(conn)
            conn.recv(4096)
    threading.Thread(target=serve, daemon=True).start()
    return listener, held


def test_issue_5_h2_body_flow_control_follows_the_origin(start_edgecache, pki):
    listener, held = stalled_origin()
    config = tls_config(pki, services=[{"name": "s", "hosts": ["*"], "origins": [
        {"address": "127.0.0.1:%d" % listener.getsockname()[1], "first_byte_timeout": "60s"}]}])
    node = start_edgecache(config=config)
    sent = 0
    try:
        with H2Raw(node.tls_port, pki.context()) as h2:
            h2.send(frame(HEADERS, END_HEADERS, 1,
                          h2.block(h2.request_headers(path="/up", method="POST"))))
            connection_window = stream_window = 65535
            piece = b"u" * 16384
            deadline = time.monotonic() + 60
            while sent < (64 << 20) and time.monotonic() < deadline:
                allowed = min(connection_window, stream_window, len(piece))
                if allowed > 0:
                    h2.send(frame(DATA, 0, 1, piece[:allowed]))
                    sent += allowed
                    connection_window -= allowed
                    stream_window -= allowed
                    continue
                got = h2.read_frame(timeout=2.0)
                if got is None:
                    break  # no window for 2 s: stalled
                ftype, flags, stream, payload = got
                if ftype == SETTINGS and not flags & 1:
                    h2.send(frame(SETTINGS, 1, 0))
                if ftype == WINDOW_UPDATE:
                    increment = struct.unpack(">I", payload[:4])[0] & 0x7fffffff
                    if stream == 0:
                        connection_window += increment
                    elif stream == 1:
                        stream_window += increment
                if ftype == RST_STREAM:
                    raise AssertionError("stream reset while uploading")
    finally:
        listener.close()
        for conn in held:
            conn.close()
    # The origin read nothing past the head: the client was held back after the edge queue,
    # the socket buffers and one window, far below the 64 MiB it tried to send.
    print("stalled origin: the client could send %.1f MiB" % (sent / 1048576))
    assert sent < (16 << 20), "the client could send %d MiB to a stalled origin" % (sent >> 20)


def test_issue_5_h2_trailers_are_dropped_and_bad_lengths_reset(start_edgecache, pki, origin):
    origin.script("/t", lambda request: Reply(200, {"Cache-Control": "no-store"}, request.body))
    node = start_edgecache(config=tls_config(pki))
    with H2Raw(node.tls_port, pki.context()) as h2:
        h2.send(frame(HEADERS, END_HEADERS, 1, h2.block(h2.request_headers(
            path="/t", method="POST", extra=[("te", "trailers")]))))
        h2.send(frame(DATA, 0, 1, b"hello ") + frame(DATA, 0, 1, b"trailers"))
        h2.send(frame(HEADERS, END_STREAM | END_HEADERS, 1, h2.block([("x-checksum", "abc")])))
        status, _, body = h2.response(1)
        assert status == 200 and body == b"hello trailers"
        # content-length 4, 10 bytes of DATA: the stream is reset, the connection lives on.
        h2.send(frame(HEADERS, END_HEADERS, 3, h2.block(h2.request_headers(
            path="/t", method="POST", extra=[("content-length", "4")]))))
        h2.send(frame(DATA, END_STREAM, 3, b"0123456789"))
        assert h2.response(3)[0] == "reset"
        # content-length 8 and exactly 8 bytes: fine, sent with a Content-Length.
        h2.send(frame(HEADERS, END_HEADERS, 5, h2.block(h2.request_headers(
            path="/t", method="PUT", extra=[("content-length", "8")]))))
        h2.send(frame(DATA, END_STREAM, 5, b"eightbyt"))
        status, _, body = h2.response(5)
        assert status == 200 and body == b"eightbyt"
    first = origin.requests_for("/t")[0]
    assert first.body == b"hello trailers"
    assert first.header("Transfer-Encoding") == "chunked"
    assert first.header("x-checksum") is None
    assert origin.requests_for("/t")[-1].header("Content-Length") == "8"
    # The over-long body never completed a request (nghttp2's own RFC 9113 §8.1.1 check, or
    # ours behind it, reset the stream).
    assert [len(r.body) for r in origin.requests_for("/t")] == [14, 8]


def test_issue_5_h2_get_with_end_stream_on_empty_data_stays_cacheable(start_edgecache, pki, origin):
    origin.script("/g", Reply(200, CACHEABLE, b"cached"))
    node = start_edgecache(config=tls_config(pki))
    with H2Raw(node.tls_port, pki.context()) as h2:
        for stream in (1, 3):
            h2.send(frame(HEADERS, END_HEADERS, stream, h2.block(h2.request_headers(path="/g"))))
            h2.send(frame(DATA, END_STREAM, stream, b""))
            status, headers, body = h2.response(stream)
            assert status == 200 and body == b"cached"
    assert origin.request_count("/g") == 1


def test_issue_5_slow_upload_is_not_an_origin_timeout(start_edgecache, pki, origin):
    # first_byte_timeout counts from the end of the request: a client that takes 2.4 s to send
    # its body to a 1 s first-byte origin still gets its answer.
    origin.script("/slow", lambda request: Reply(200, {"Cache-Control": "no-store"}, request.body))
    config = tls_config(pki, services=[{"name": "s", "hosts": ["*"], "origins": [
        {"address": origin.address, "first_byte_timeout": "1s"}]}])
    node = start_edgecache(config=config)
    with H2Raw(node.tls_port, pki.context()) as h2:
        h2.send(frame(HEADERS, END_HEADERS, 1, h2.block(h2.request_headers(path="/slow", method="POST"))))
        for piece in (b"one ", b"two ", b"three"):
            time.sleep(0.8)
            h2.send(frame(DATA, 0, 1, piece))
        h2.send(frame(DATA, END_STREAM, 1, b""))
        status, _, body = h2.response(1)
    assert status == 200 and body == b"one two three"
    assert metric(node, "edgecache_origin_errors_total", kind="timeout") == 0

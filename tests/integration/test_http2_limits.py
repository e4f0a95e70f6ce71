"""Issue 5, HTTP/2 limits as configuration (`http2:`) through real sockets: the configured
values are what a connection advertises in SETTINGS; a request whose header list is over
max_header_list_size gets 431 on its stream while the connection carries on (default limit
and a configured one); only four times the limit (an HPACK bomb) ends the connection with
GOAWAY ENHANCE_YOUR_CALM; a configured flood budget is the one enforced; out-of-range values
are refused with the key and the bound."""

import struct
import subprocess

import pytest

from harness import Reply
from harness.edgecache import require_binary
from harness.h2raw import (CONTINUATION, END_HEADERS, END_STREAM, ENHANCE_YOUR_CALM, HEADERS,
                           PING, SETTINGS, H2Raw, frame)
from harness.tls import Pki
from test_tls import CACHEABLE, metric, tls_config


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    pki = Pki(tmp_path_factory.mktemp("pki-h2limits"))
    pki.certs = {k: pki.issue(k, ["example.test"] if k != "default" else ["default.test"])
                 for k in ("default", "site_ecdsa")}
    pki.certs["site_rsa"] = pki.issue("site_rsa", ["www.example.test"], "rsa")
    pki.certs["other"] = pki.issue("other", ["other.test"])
    return pki


def start(start_edgecache, pki, http2=None):
    config = tls_config(pki)
    if http2:
        config["http2"] = http2
    return start_edgecache(config=config)


def server_settings(h2):
    while True:
        got = h2.read_frame()
        assert got is not None, "closed before SETTINGS"
        ftype, flags, stream, payload = got
        if ftype == SETTINGS and not flags & 1 and stream == 0:
            return {struct.unpack(">H", payload[i:i + 2])[0]: struct.unpack(">I", payload[i + 2:i + 6])[0]
                    for i in range(0, len(payload), 6)}


def send_block(h2, stream, block, end_stream=True):
    """HEADERS then CONTINUATION frames of at most 16 KiB each."""
    pieces = [block[i:i + 16384] for i in range(0, len(block), 16384)] or [b""]
    out = b""
    for i, piece in enumerate(pieces):
        flags = (END_HEADERS if i == len(pieces) - 1 else 0)
        if i == 0:
            out += frame(HEADERS, flags | (END_STREAM if end_stream else 0), stream, piece)
        else:
            out += frame(CONTINUATION, flags, stream, piece)
    h2.send(out)


def big_fields(total, each=8000):
    return [("x-big-%d" % i, "".join(chr(97 + (i * 7 + j) % 26) for j in range(each)))
            for i in range(total // each + 1)]


def test_issue_5_http2_defaults_advertised_and_big_header_list_gets_431(start_edgecache, pki, origin):
    origin.script("/ok", Reply(200, CACHEABLE, b"ok"))
    node = start(start_edgecache, pki)
    with H2Raw(node.tls_port, pki.context()) as h2:
        settings = server_settings(h2)
        assert settings[3] == 100      # MAX_CONCURRENT_STREAMS
        assert settings[4] == 65535    # INITIAL_WINDOW_SIZE
        assert settings[1] == 4096     # HEADER_TABLE_SIZE
        assert settings[6] == 65536    # MAX_HEADER_LIST_SIZE
        # 72 KB of fields (over 64 KiB, under the 256 KiB bomb line) in HEADERS + CONTINUATION.
        send_block(h2, 1, h2.block(h2.request_headers(path="/ok", extra=big_fields(72000))))
        status, headers, body = h2.response(1)
        assert status == 431, (status, body)
        send_block(h2, 3, h2.block(h2.request_headers(path="/ok")))
        status, _, body = h2.response(3)
        assert status == 200 and body == b"ok"
    assert origin.request_count("/ok") == 1
    assert metric(node, "edgecache_http2_refused_requests_total", reason="header_list_too_large") == 1
    assert metric(node, "edgecache_http2_enhance_your_calm_total") == 0


def test_issue_5_http2_configured_limits(start_edgecache, pki, origin):
    origin.script("/ok", Reply(200, CACHEABLE, b"ok"))
    node = start(start_edgecache, pki, {
        "max_concurrent_streams": 7, "initial_window_size": "128KiB", "header_table_size": "8KiB",
        "max_header_list_size": "4KiB", "ping_burst": 5, "ping_rate": 1})
    with H2Raw(node.tls_port, pki.context()) as h2:
        settings = server_settings(h2)
        assert (settings[3], settings[4], settings[1], settings[6]) == (7, 131072, 8192, 4096)
        send_block(h2, 1, h2.block(h2.request_headers(path="/ok", extra=big_fields(6000, 3000))))
        assert h2.response(1)[0] == 431
        send_block(h2, 3, h2.block(h2.request_headers(path="/ok")))
        assert h2.response(3)[0] == 200
        # 4 x 4 KiB decoded in one block is a bomb.
        send_block(h2, 5, h2.block(h2.request_headers(path="/ok", extra=big_fields(20000, 3000))))
        assert h2.goaway_code() == ENHANCE_YOUR_CALM
    assert metric(node, "edgecache_http2_enhance_your_calm_total", reason="hpack_bomb") == 1
    assert metric(node, "edgecache_http2_refused_requests_total", reason="header_list_too_large") == 1
    with H2Raw(node.tls_port, pki.context()) as h2:
        h2.send(frame(PING, 0, 0, b"12345678") * 8)  # over the configured burst of 5
        assert h2.goaway_code() == ENHANCE_YOUR_CALM
    assert metric(node, "edgecache_http2_enhance_your_calm_total", reason="ping_flood") == 1
    assert node.healthz()[0] == 200


def test_issue_5_http2_bad_limits_are_refused_with_the_key(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("http2:\n  max_concurrent_streams: 0\n  initial_window_size: 4GiB\n"
                      "  max_header_list_size: 100\n  ping_rate: 0\n")
    done = subprocess.run([require_binary(), "--check-config", str(config)], capture_output=True,
                          timeout=30)
    text = (done.stdout + done.stderr).decode()
    assert done.returncode != 0
    for key in ("http2.max_concurrent_streams", "http2.initial_window_size",
                "http2.max_header_list_size", "http2.ping_rate"):
        assert key in text, text
    assert "below the minimum" in text and "above the maximum" in text, text

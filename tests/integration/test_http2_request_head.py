"""Issue 5, the HTTP/2 request head built without HTTP/1.1 text (docs/design/h2-hit-path.md,
third round) through real sockets: what the strict HTTP/1.1 parser refused after the
downgrade is still refused with the same status (400 for a Host the parser refuses, 414 for a
long request line, 431 for too many fields, 413 for a declared length over the body limit,
417 for an expectation other than 100-continue), the connection carries on, nothing reaches
the origin; and a miss still sends the origin the canonical HTTP/1.1 head (Host from
:authority, split cookies joined, no HTTP/2-only fields), while the hit after it needs none."""

import pytest

from harness import Reply
from harness.h2raw import DATA, END_HEADERS, END_STREAM, HEADERS, H2Raw, frame
from harness.tls import sitePki
from test_tls import CACHEABLE, metric, tls_config


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return sitePki(tmp_path_factory.mktemp("pki-h2head"))


@pytest.fixture
def node(start_edgecache, pki):
    config = tls_config(pki)
    config.setdefault("limits", {})
    config["limits"].update({"max_request_line": 2048, "max_fields": 40,
                             "max_request_body": "1MiB"})
    return start_edgecache(config=config)


PARSER_CASES = [
    ("bad_host", dict(authority="example.test:99999"), 400),
    ("uri_too_long", dict(path="/" + "a" * 2100), 414),
    ("too_many_fields", dict(extra=[("x-f%d" % i, "v") for i in range(45)]), 431),
    ("expectation_failed", dict(extra=[("expect", "100-continue, x")]), 417),
]


@pytest.mark.parametrize("kind,request_args,status", PARSER_CASES, ids=[c[0] for c in PARSER_CASES])
def test_issue_5_h2_parser_refusals_keep_their_status(node, pki, origin, kind, request_args, status):
    origin.script("/ok", Reply(200, CACHEABLE, b"ok"))
    with H2Raw(node.tls_port, pki.context()) as h2:
        args = dict(request_args)
        args.setdefault("path", "/p")
        h2.send(frame(HEADERS, END_STREAM | END_HEADERS, 1, h2.block(h2.request_headers(**args))))
        got = h2.response(1)
        assert got[0] == status, (kind, got)
        h2.send(frame(HEADERS, END_STREAM | END_HEADERS, 3, h2.block(h2.request_headers(path="/ok"))))
        assert h2.response(3)[0] == 200
    assert origin.request_count() == 1  # only /ok
    assert metric(node, "edgecache_parse_errors_total", kind=kind) == 1


def test_issue_5_h2_declared_length_over_the_body_limit_gets_413(node, pki, origin):
    with H2Raw(node.tls_port, pki.context()) as h2:
        h2.send(frame(HEADERS, END_HEADERS, 1, h2.block(h2.request_headers(
            path="/up", method="POST", extra=[("content-length", str(2 << 20))]))))
        h2.send(frame(DATA, END_STREAM, 1, b"abc"))
        assert h2.response(1)[0] == 413
    assert origin.request_count() == 0
    assert metric(node, "edgecache_parse_errors_total", kind="body_too_large") == 1


def test_issue_5_h2_miss_sends_the_canonical_head_and_the_hit_needs_none(node, pki, origin):
    origin.script("/canon", Reply(200, CACHEABLE, b"canonical"))
    extra = [("cookie", "a=1"), ("accept", "*/*"), ("cookie", "b=2"), ("te", "trailers")]
    with H2Raw(node.tls_port, pki.context()) as h2:
        for stream in (1, 3):
            h2.send(frame(HEADERS, END_STREAM | END_HEADERS, stream,
                          h2.block(h2.request_headers(authority="example.test", path="/canon", extra=extra))))
            status, _, body = h2.response(stream)
            assert (status, body) == (200, b"canonical")
    seen = origin.requests_for("/canon")
    assert len(seen) == 1, seen  # the second was a hit
    request = seen[0]
    assert request.method == "GET" and request.target == "/canon" and request.version == "HTTP/1.1"
    assert request.header("host") == "example.test"
    assert request.header("cookie") == "a=1; b=2"
    assert request.header("accept") == "*/*"
    assert request.header("te") is None

"""Issue 5, TLS termination for HTTP/1.1 through real sockets: handshakes with curl, openssl
s_client and Python's ssl for TLS 1.2 and 1.3 (older versions refused), SNI selection (exact,
wildcard, SAN, default), ECDSA and RSA certificates for the same names chosen by client
support, ALPN, resumption, X-Forwarded-Proto, HSTS per host, plain-HTTP redirect per host,
handshake failures counted by reason. Certificates are made by the test with the openssl CLI."""

import re
import socket
import ssl
import time

import pytest

from harness import Reply, free_port
from harness.edgecache import NODE
from harness.tls import Pki, TlsClient, curl, s_client

CACHEABLE = {"Cache-Control": "public, max-age=300", "Content-Type": "text/plain"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    pki = Pki(tmp_path_factory.mktemp("pki"))
    pki.certs = {
        # The first certificate listed is the default.
        "default": pki.issue("default", ["default.test"], "ecdsa", "default"),
        "site_ecdsa": pki.issue("site-ecdsa", ["example.test", "www.example.test", "*.wiki.test"],
                                "ecdsa", "site-ecdsa"),
        "site_rsa": pki.issue("site-rsa", ["example.test", "www.example.test", "*.wiki.test"],
                              "rsa", "site-rsa"),
        "other": pki.issue("other", ["other.test"], "ecdsa", "other"),
    }
    return pki


def tls_config(pki, services=None, **tls):
    """A plain listener on the node's port and a TLS one on node.tls_port."""
    section = {"certificates": [pki.certs[k] for k in ("default", "site_ecdsa", "site_rsa", "other")]}
    section.update(tls)
    config = {"listeners": [{"address": "127.0.0.1:$PORT"},
                            {"address": "127.0.0.1:$TLS_PORT", "tls": section}]}
    if services is not None:
        config["services"] = services
    return config


@pytest.fixture
def tls_node(start_edgecache, pki, origin):
    def start(services=None, **tls):
        return start_edgecache(config=tls_config(pki, services, **tls))
    return start


def metric(node, name, **labels):
    _, text = node.admin("GET", "/metrics")
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        match = re.match(r'^(\w+)(?:\{(.*)\})? (\S+)$', line)
        if not match or match.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(match.group(3))
    return total


def test_issue_5_tls13_and_tls12_with_curl(tls_node, pki, origin):
    origin.script("/a", Reply(200, CACHEABLE, b"hello over tls"))
    node = tls_node()
    code, out, err = curl(node.tls_port, "/a", pki.ca_cert, "example.test", "--tlsv1.3", "--tls-max", "1.3", "--http1.1")
    assert code == 0, err
    assert out.startswith("HTTP/1.1 200"), out
    assert out.endswith("hello over tls")
    assert "X-Cache: %s miss" % NODE in out
    code, out, err = curl(node.tls_port, "/a", pki.ca_cert, "example.test", "--tlsv1.2", "--tls-max", "1.2", "--http1.1")
    assert code == 0, err
    assert "X-Cache: %s hit" % NODE in out
    assert origin.request_count("/a") == 1
    assert metric(node, "edgecache_tls_handshakes_total", version="TLSv1.3") >= 1
    assert metric(node, "edgecache_tls_handshakes_total", version="TLSv1.2") >= 1


def test_issue_5_s_client_negotiates_defaults_of_section_9(tls_node):
    node = tls_node()
    code, out = s_client(node.tls_port, "-tls1_3", input_bytes=b"")
    assert "Protocol  : TLSv1.3" in out or "New, TLSv1.3" in out, out
    assert "Server Temp Key: X25519" in out, out
    code, out = s_client(node.tls_port, "-tls1_2", "-groups", "P-256")
    assert "New, TLSv1.2, Cipher is ECDHE-ECDSA-AES256-GCM-SHA384" in out, out
    assert "Server Temp Key: ECDH, prime256v1" in out, out


def test_issue_5_old_protocols_and_weak_ciphers_are_refused(tls_node):
    node = tls_node()
    for flag in ("-tls1_1", "-tls1"):
        code, out = s_client(node.tls_port, flag, "-cipher", "DEFAULT:@SECLEVEL=0")
        assert code != 0, out
        assert "Cipher is (NONE)" in out or "alert" in out, out
    code, out = s_client(node.tls_port, "-tls1_2", "-cipher", "AES128-SHA")  # no forward secrecy
    assert code != 0, out
    assert metric(node, "edgecache_tls_handshake_failures_total", reason="unsupported_version") >= 2
    assert metric(node, "edgecache_tls_handshake_failures_total", reason="no_shared_cipher") >= 1


@pytest.mark.parametrize("server_name,organization,match", [
    ("example.test", "site-ecdsa", "exact"),
    ("WWW.Example.Test", "site-ecdsa", "exact"),      # SAN, any case
    ("en.wiki.test", "site-ecdsa", "wildcard"),
    ("a.b.wiki.test", "default", "default"),          # a wildcard covers one label only
    ("wiki.test", "default", "default"),
    ("other.test", "other", "exact"),
    ("unknown.test", "default", "default"),
])
def test_issue_5_sni_selects_exact_wildcard_san_or_default(tls_node, pki, server_name,
                                                           organization, match):
    node = tls_node()
    before = metric(node, "edgecache_tls_certificate_selections_total", match=match)
    with TlsClient(node.tls_port, pki.context(), server_hostname=server_name) as client:
        assert client.subject()["organizationName"] == organization
    assert metric(node, "edgecache_tls_certificate_selections_total", match=match) == before + 1


def test_issue_5_no_sni_gets_the_default_certificate(tls_node, pki):
    node = tls_node()
    ctx = pki.context()
    with TlsClient(node.tls_port, ctx, server_hostname=None) as client:
        assert client.subject()["organizationName"] == "default"


def test_issue_5_ecdsa_and_rsa_chosen_by_what_the_client_supports(tls_node, pki):
    node = tls_node()
    # TLS 1.2: the cipher suite names the key type.
    ctx = pki.context(maximum=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-RSA-AES128-GCM-SHA256")
    with TlsClient(node.tls_port, ctx) as client:
        assert client.subject()["organizationName"] == "site-rsa"
    ctx = pki.context(maximum=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-ECDSA-AES128-GCM-SHA256")
    with TlsClient(node.tls_port, ctx) as client:
        assert client.subject()["organizationName"] == "site-ecdsa"
    # TLS 1.3: the signature algorithms do.
    code, out = s_client(node.tls_port, "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256")
    assert "Server public key is 2048 bit" in out, out
    code, out = s_client(node.tls_port, "-tls1_3", "-sigalgs", "ecdsa_secp256r1_sha256")
    assert "Server public key is 256 bit" in out, out
    # A modern client offering both gets ECDSA.
    with TlsClient(node.tls_port, pki.context()) as client:
        assert client.subject()["organizationName"] == "site-ecdsa"
    assert metric(node, "edgecache_tls_handshakes_total", auth="RSA") >= 2
    assert metric(node, "edgecache_tls_handshakes_total", auth="ECDSA") >= 3


def test_issue_5_alpn_prefers_h2_then_http11_and_refuses_no_common_protocol(tls_node):
    node = tls_node()
    code, out = s_client(node.tls_port, "-alpn", "h2,http/1.1")
    assert "ALPN protocol: h2" in out, out
    code, out = s_client(node.tls_port, "-alpn", "http/1.1")
    assert "ALPN protocol: http/1.1" in out, out
    code, out = s_client(node.tls_port, "-alpn", "spdy/3")
    assert code != 0 and "no application protocol" in out, out
    assert metric(node, "edgecache_tls_handshake_failures_total", reason="no_application_protocol") == 1


def test_issue_5_session_resumption(tls_node, pki, origin):
    origin.script("/r", Reply(200, CACHEABLE, b"r"))
    node = tls_node()
    for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        ctx = pki.context(minimum=version, maximum=version)
        with TlsClient(node.tls_port, ctx) as first:
            assert first.get("/r").status == 200  # TLS 1.3 tickets arrive after the handshake
            session = first.sock.session
            assert not first.sock.session_reused
        with TlsClient(node.tls_port, ctx, session=session) as second:
            assert second.sock.session_reused
            assert second.get("/r").status == 200
    assert metric(node, "edgecache_tls_handshakes_total", session="reused", version="TLSv1.3") == 1
    assert metric(node, "edgecache_tls_handshakes_total", session="reused", version="TLSv1.2") == 1


def test_issue_5_resumption_off_without_session_cache_and_tickets(tls_node, pki, origin):
    origin.script("/r", Reply(200, CACHEABLE, b"r"))
    node = tls_node(session_cache_size=0, session_tickets=False)
    for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        ctx = pki.context(minimum=version, maximum=version)
        with TlsClient(node.tls_port, ctx) as first:
            assert first.get("/r").status == 200
            session = first.sock.session
            assert not session.has_ticket
        with TlsClient(node.tls_port, ctx, session=session) as second:
            assert not second.sock.session_reused  # a full handshake again
            assert second.get("/r").status == 200
    assert metric(node, "edgecache_tls_handshakes_total", session="reused") == 0
    assert metric(node, "edgecache_tls_handshakes_total", session="new") == 4


def test_issue_5_forwarded_proto_and_cache_key_per_scheme(tls_node, pki, origin):
    origin.script("/p", Reply(200, CACHEABLE, b"p"))
    origin.script("/pass", Reply(200, {"Cache-Control": "no-store"}, b"q"))
    node = tls_node()
    with TlsClient(node.tls_port, pki.context()) as client:
        assert client.get("/p", headers={"X-Forwarded-Proto": "http"}).status == 200
        assert client.request("POST", "/pass", body=b"x").status == 200
    assert node.get("/p", headers={"X-Forwarded-Proto": "https"}).status == 200
    first, second = origin.requests_for("/p")
    assert first.header("X-Forwarded-Proto") == "https"
    assert second.header("X-Forwarded-Proto") == "http"  # the client's claim is replaced
    [passed] = origin.requests_for("/pass")
    assert passed.header("X-Forwarded-Proto") == "https"


def test_issue_5_hsts_per_host_over_tls_only(tls_node, pki, origin):
    origin.script("/h", Reply(200, CACHEABLE, b"h"))
    services = [
        {"name": "secure", "hosts": ["example.test"], "origins": [{"address": origin.address}],
         "hsts_max_age": "365d", "hsts_include_subdomains": True},
        {"name": "rest", "hosts": ["*"], "origins": [{"address": origin.address}]},
    ]
    node = tls_node(services=services)
    with TlsClient(node.tls_port, pki.context()) as client:
        miss = client.get("/h")
        hit = client.get("/h")
        other = client.get("/h", host="other.test")
    expected = "max-age=31536000; includeSubDomains"
    assert miss.header("Strict-Transport-Security") == expected
    assert hit.header("Strict-Transport-Security") == expected
    assert other.header("Strict-Transport-Security") is None
    assert node.get("/h").header("Strict-Transport-Security") is None  # never over plain HTTP


def test_issue_5_plain_http_redirect_per_host(tls_node, pki, origin):
    origin.script("/page", Reply(200, CACHEABLE, b"page"))
    services = [
        {"name": "secure", "hosts": ["example.test"], "origins": [{"address": origin.address}],
         "https_redirect": True},
        {"name": "rest", "hosts": ["*"], "origins": [{"address": origin.address}]},
    ]
    node = tls_node(services=services)
    moved = node.get("/page?x=1", host="Example.Test:%d" % node.port)
    assert moved.status == 301
    # The TLS listener is not on 443: the Location names its port.
    assert moved.header("Location") == "https://example.test:%d/page?x=1" % node.tls_port
    head = node.request("HEAD", "/page")
    assert head.status == 301 and head.body == b""
    assert node.request("POST", "/page", body=b"data").status == 403
    assert node.get("/page", host="other.test").status == 200  # not redirected
    with TlsClient(node.tls_port, pki.context()) as client:
        assert client.get("/page").status == 200
    # other.test over http and example.test over https; the redirected and refused never left
    assert origin.request_count("/page") == 2
    assert metric(node, "edgecache_https_redirects_total", status="301") == 2
    assert metric(node, "edgecache_https_redirects_total", status="403") == 1


def test_issue_5_redirect_port_follows_https_port(tls_node, pki, origin):
    services = [
        {"name": "lb", "hosts": ["example.test"], "origins": [{"address": origin.address}],
         "https_redirect": True, "https_port": 443},
        {"name": "alt", "hosts": ["alt.test"], "origins": [{"address": origin.address}],
         "https_redirect": True, "https_port": 8443},
        {"name": "rest", "hosts": ["*"], "origins": [{"address": origin.address}]},
    ]
    node = tls_node(services=services)
    assert node.get("/p").header("Location") == "https://example.test/p"  # 443 is left out
    assert node.get("/p", host="alt.test:%d" % node.port).header("Location") == \
        "https://alt.test:8443/p"


def test_issue_5_hsts_origin_field_wins_unless_config_says_otherwise(tls_node, pki, origin):
    own = dict(CACHEABLE, **{"Strict-Transport-Security": "max-age=5"})
    origin.script("/own", Reply(200, own, b"own"))
    origin.script("/own-pass", Reply(200, {"Cache-Control": "no-store",
                                           "Strict-Transport-Security": "max-age=6"}, b"p"))
    origin.script("/none", Reply(200, CACHEABLE, b"none"))
    services = [
        {"name": "origin-wins", "hosts": ["example.test"], "origins": [{"address": origin.address}],
         "hsts_max_age": "1d"},
        {"name": "config-wins", "hosts": ["*.wiki.test"], "origins": [{"address": origin.address}],
         "hsts_max_age": "1d", "hsts_source": "config"},
        {"name": "rest", "hosts": ["*"], "origins": [{"address": origin.address}]},
    ]
    node = tls_node(services=services)
    with TlsClient(node.tls_port, pki.context()) as client:
        for _ in range(2):  # miss, then hit
            got = client.get("/own")
            assert got.headers.get_all("Strict-Transport-Security") == ["max-age=5"]
        assert client.get("/own-pass").headers.get_all("Strict-Transport-Security") == ["max-age=6"]
        assert client.get("/none").headers.get_all("Strict-Transport-Security") == ["max-age=86400"]
        for _ in range(2):
            got = client.get("/own", host="en.wiki.test")
            assert got.headers.get_all("Strict-Transport-Security") == ["max-age=86400"]
        got = client.get("/own-pass", host="en.wiki.test")
        assert got.headers.get_all("Strict-Transport-Security") == ["max-age=86400"]
        # Without HSTS configured the origin's field passes through untouched.
        assert client.get("/own", host="other.test").headers.get_all(
            "Strict-Transport-Security") == ["max-age=5"]


def test_issue_5_plain_http_to_tls_port_and_stalled_handshake_are_counted(start_edgecache, pki):
    config = tls_config(pki)
    config["limits"] = {"header_timeout": "1s", "drain_timeout": "5s"}
    node = start_edgecache(config=config)
    port = node.tls_port
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: example.test\r\n\r\n")
        sock.recv(4096)  # an alert or nothing, then the close
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        started = time.monotonic()
        assert sock.recv(1) == b""  # closed by the handshake deadline
        assert time.monotonic() - started < 4
    assert metric(node, "edgecache_tls_handshake_failures_total", reason="http_request") == 1
    assert metric(node, "edgecache_tls_handshake_failures_total", reason="timeout") == 1
    assert node.healthz()[0] == 200


def test_issue_5_large_body_over_tls_is_intact(tls_node, pki, origin):
    body = bytes(range(256)) * 4096  # 1 MiB: many records, partial writes
    origin.script("/big", Reply(200, CACHEABLE, body))
    node = tls_node()
    with TlsClient(node.tls_port, pki.context()) as client:
        assert client.get("/big").body == body
        assert client.get("/big").body == body
        upload = b"u" * (3 << 20)
        origin.script("/up", Reply(200, {"Cache-Control": "no-store"}, b"ok"))
        assert client.request("POST", "/up", body=upload).status == 200
    assert origin.requests_for("/up")[0].body == upload


@pytest.mark.parametrize("broken", ["mismatched_key", "missing_file", "not_pem"])
def test_issue_5_a_broken_certificate_refuses_start_with_a_reason(tmp_path, pki, broken):
    from harness.edgecache import Edgecache
    certs = dict(pki.certs["site_ecdsa"])
    if broken == "mismatched_key":
        certs["key"] = pki.certs["other"]["key"]
    elif broken == "missing_file":
        certs["cert"] = str(tmp_path / "nope.pem")
    else:
        bad = tmp_path / "bad.pem"
        bad.write_text("not a certificate\n")
        certs["cert"] = str(bad)
    node = Edgecache(tmp_path, None, config={"listeners": [
        {"address": "127.0.0.1:%d" % free_port(), "tls": {"certificates": [certs]}}]})
    node.write_config()
    import subprocess
    done = subprocess.run([node.binary, "--config", node.config_path], capture_output=True,
                          timeout=30)
    assert done.returncode == 1
    message = done.stderr.decode() + done.stdout.decode()
    reason = {"mismatched_key": "does not belong to certificate", "missing_file": "cannot be read",
              "not_pem": "no PEM certificate"}[broken]
    assert reason in message, message

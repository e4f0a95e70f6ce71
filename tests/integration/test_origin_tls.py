"""Issue 5, origins over TLS through real sockets: edgecache's origin connections speak TLS to
a Python ssl origin started by the test with a throwaway CA. A verified origin answers and one
TLS connection carries many requests; a closed connection's successor resumes the session;
an untrusted CA, a wrong name, a version mismatch and a missing client certificate each
answer 502, count by reason, and leave the node serving; verify: false and client
certificates work."""

import socket
import ssl
import threading

import pytest

from harness import Origin, Reply
from harness.tls import Pki

PLAIN = {"Content-Type": "text/plain"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    pki = Pki(tmp_path_factory.mktemp("origin-pki"))
    pki.certs = {
        "origin": pki.issue("origin", ["origin.test"], "ecdsa", "origin"),
        "client": pki.issue("client", ["edge.test"], "ecdsa", "edge"),
    }
    pki.other = Pki(tmp_path_factory.mktemp("other-pki"))
    return pki


def server_context(pki, maximum=None, client_ca=None):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.certs["origin"]["cert"], pki.certs["origin"]["key"])
    if maximum:
        context.maximum_version = maximum
    if client_ca:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(client_ca)
    return context


@pytest.fixture
def tls_origin(pki, clock):
    servers = []

    def make(**kwargs):
        server = Origin(clock, tls_context=server_context(pki, **kwargs))
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def node_for(start_edgecache, server, **tls):
    section = {"enabled": True}
    section.update(tls)
    config = {"services": [{"name": "default", "hosts": ["*"],
                            "origins": [{"address": server.address, "tls": section}]}]}
    return start_edgecache(config=config, origin_override=server)


def test_issue_5_origin_tls_verified_and_one_connection_for_many_requests(start_edgecache, tls_origin, pki):
    server = tls_origin()
    server.script("/hello", Reply(200, PLAIN, b"hello from a TLS origin"))
    node = node_for(start_edgecache, server, ca_file=pki.ca_cert, sni="origin.test")
    for i in range(6):
        got = node.get("/hello?n=%d" % i)
        assert got.status == 200, got
        assert got.body == b"hello from a TLS origin"
    assert server.request_count() == 6
    assert server.connections == 1, "the origin saw %d connections" % server.connections
    assert server.tls_handshakes == 1
    assert server.tls_server_names == ["origin.test"]
    assert server.tls_versions == ["TLSv1.3"]
    assert node.metric("edgecache_origin_tls_handshakes_total", session="new") == 1
    assert node.metric("edgecache_origin_connections_total", kind="reused") == 5


def test_issue_5_origin_tls_resumes_the_session_on_a_new_connection(start_edgecache, tls_origin, pki):
    for maximum in ("TLSv1.3", "TLSv1.2"):
        server = tls_origin()
        # "close" framing: the origin closes after each answer, so each request needs a
        # new connection, which resumes the last session.
        server.script("/c", Reply(200, PLAIN, b"closing", framing="close"))
        node = node_for(start_edgecache, server, ca_file=pki.ca_cert, sni="origin.test",
                        max_version=maximum)
        for i in range(3):
            got = node.get("/c?n=%d" % i)
            assert got.status == 200 and got.body == b"closing"
        assert server.tls_handshakes == 3
        assert server.tls_versions == [maximum] * 3
        assert server.tls_resumed == 2, (maximum, server.tls_resumed)
        assert node.metric("edgecache_origin_tls_handshakes_total", session="resumed") == 2
        assert node.metric("edgecache_origin_tls_handshakes_total", session="new") == 1
        node.stop()


def test_issue_5_origin_tls_untrusted_ca_is_502_and_counted(start_edgecache, tls_origin, pki):
    server = tls_origin()
    node = node_for(start_edgecache, server, ca_file=pki.other.ca_cert, sni="origin.test")
    for _ in range(2):
        assert node.get("/x").status == 502
    assert server.request_count() == 0
    assert node.metric("edgecache_origin_errors_total", kind="tls_verify") == 2
    assert node.metric("edgecache_origin_errors_total", kind="tls_handshake") == 0
    assert node.healthz()[0] == 200
    assert "certificate verify failed" in node.stderr()


def test_issue_5_origin_tls_wrong_name_is_502_and_counted(start_edgecache, tls_origin, pki):
    server = tls_origin()
    node = node_for(start_edgecache, server, ca_file=pki.ca_cert, sni="wrong.test")
    assert node.get("/x").status == 502
    assert server.tls_server_names in ([], ["wrong.test"])
    assert server.request_count() == 0
    assert node.metric("edgecache_origin_errors_total", kind="tls_verify") == 1
    assert "hostname mismatch" in node.stderr()
    # An IP address as the name (the default with a numeric address) is checked as an IP.
    node2 = node_for(start_edgecache, server, ca_file=pki.ca_cert)
    assert node2.get("/x").status == 502
    assert node2.metric("edgecache_origin_errors_total", kind="tls_verify") == 1


def test_issue_5_origin_tls_version_mismatch_is_a_handshake_failure(start_edgecache, tls_origin, pki):
    server = tls_origin(maximum=ssl.TLSVersion.TLSv1_2)
    node = node_for(start_edgecache, server, ca_file=pki.ca_cert, sni="origin.test",
                    min_version="TLSv1.3")
    assert node.get("/x").status == 502
    assert node.metric("edgecache_origin_errors_total", kind="tls_handshake") == 1
    assert node.metric("edgecache_origin_errors_total", kind="tls_verify") == 0
    assert node.healthz()[0] == 200


def test_issue_5_origin_tls_to_a_plain_origin_is_a_handshake_failure(start_edgecache, origin, pki):
    # A plain HTTP server answers the ClientHello with a 400 and closes.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            conn.close()
    threading.Thread(target=serve, daemon=True).start()
    origin.address = "127.0.0.1:%d" % listener.getsockname()[1]
    try:
        node = node_for(start_edgecache, origin, ca_file=pki.ca_cert, sni="origin.test")
        assert node.get("/x").status == 502
        assert node.metric("edgecache_origin_errors_total", kind="tls_handshake") == 1
        assert "TLS handshake with" in node.stderr()
    finally:
        listener.close()


def test_issue_5_origin_tls_verify_off_accepts_any_certificate(start_edgecache, tls_origin, pki):
    server = tls_origin()
    server.script("/v", Reply(200, PLAIN, b"unverified"))
    node = node_for(start_edgecache, server, ca_file=pki.other.ca_cert, verify=False)
    got = node.get("/v")
    assert got.status == 200 and got.body == b"unverified"


def test_issue_5_origin_tls_client_certificate(start_edgecache, tls_origin, pki):
    server = tls_origin(client_ca=pki.ca_cert)
    server.script("/m", Reply(200, PLAIN, b"mutual"))
    node = node_for(start_edgecache, server, ca_file=pki.ca_cert, sni="origin.test",
                    cert=pki.certs["client"]["cert"], key=pki.certs["client"]["key"])
    got = node.get("/m")
    assert got.status == 200 and got.body == b"mutual"
    # Without one the origin refuses the handshake (TLS 1.3 reports it after the handshake,
    # as the first read fails): 502 either way.
    bare = node_for(start_edgecache, server, ca_file=pki.ca_cert, sni="origin.test")
    assert bare.get("/m").status == 502
    assert server.request_count("/m") == 1


def test_issue_5_origin_tls_large_response_and_request_body(start_edgecache, tls_origin, pki):
    server = tls_origin()
    big = bytes(range(256)) * 4096  # 1 MiB
    server.script("/big", Reply(200, PLAIN, big, chunk_size=70000))
    server.script("/post", lambda request: Reply(200, PLAIN, b"%d" % len(request.body)))
    node = node_for(start_edgecache, server, ca_file=pki.ca_cert, sni="origin.test")
    got = node.get("/big")
    assert got.status == 200 and got.body == big
    got = node.request("POST", "/post", body=b"p" * 300000)
    assert got.status == 200 and got.body == b"300000"
    assert server.connections == 1


def test_issue_5_origin_tls_bad_config_is_refused_with_the_reason(start_edgecache, tls_origin, pki, tmp_path):
    import subprocess
    from harness.edgecache import require_binary
    server = tls_origin()
    config = tmp_path / "bad.yaml"
    config.write_text(
        "listeners: [{address: '127.0.0.1:1'}]\n"
        "services:\n"
        "  - name: s\n"
        "    hosts: ['*']\n"
        "    origins:\n"
        "      - address: %s\n"
        "        tls: {enabled: true, min_version: TLSv1.3, max_version: TLSv1.2, cert: /x.pem}\n"
        % server.address)
    done = subprocess.run([require_binary(), "--check-config", str(config)],
                          capture_output=True, timeout=30)
    text = (done.stdout + done.stderr).decode()
    assert done.returncode != 0
    assert "services[0].origins[0].tls.min_version: is newer than max_version" in text, text
    assert "services[0].origins[0].tls.key: a client certificate needs both cert and key" in text, text

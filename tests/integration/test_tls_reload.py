"""Issue 5, certificates and ticket keys without restarts: a replaced certificate is served
to new handshakes after SIGHUP and after a plain file change while established connections
keep working; a broken new certificate keeps the old one (logged, counted); session tickets
resume across two edgecache processes sharing a ticket-key file (openssl s_client
-sess_out/-sess_in, TLS 1.2 and 1.3; Python ssl sessions for TLS 1.3), and survive a key
rotation while the old key is still listed."""

import os
import re
import shutil
import signal
import time

import pytest

from harness import Reply, wait_for
from harness.tls import Pki, TlsClient, s_client
from test_tls import CACHEABLE, metric


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    pki = Pki(tmp_path_factory.mktemp("pki3"))
    pki.certs = {
        "old": pki.issue("old", ["example.test"], "ecdsa", "old"),
        "new": pki.issue("new", ["example.test"], "ecdsa", "new"),
    }
    return pki


def live_files(tmp_path, pki, which):
    """Copies certificate `which` to fixed paths the node is configured with."""
    cert, key = str(tmp_path / "live.pem"), str(tmp_path / "live.key")
    shutil.copy(pki.certs[which]["cert"], cert + ".tmp")
    shutil.copy(pki.certs[which]["key"], key + ".tmp")
    os.replace(key + ".tmp", key)
    os.replace(cert + ".tmp", cert)
    return {"cert": cert, "key": key}


def config_for(files, **tls):
    section = {"certificates": [files]}
    section.update(tls)
    return {"listeners": [{"address": "127.0.0.1:$PORT"},
                          {"address": "127.0.0.1:$TLS_PORT", "tls": section}]}


def organization(node, pki):
    with TlsClient(node.tls_port, pki.context()) as client:
        return client.subject()["organizationName"]



def test_issue_5_certificate_replaced_on_sighup_keeps_established_connections(
        start_edgecache, tmp_path, pki, origin):
    origin.script("/k", Reply(200, CACHEABLE, b"k"))
    files = live_files(tmp_path, pki, "old")
    node = start_edgecache(config=config_for(files))
    assert organization(node, pki) == "old"
    established = TlsClient(node.tls_port, pki.context())
    assert established.get("/k").status == 200
    live_files(tmp_path, pki, "new")
    node.signal(signal.SIGHUP)
    assert wait_for(lambda: organization(node, pki) == "new")
    assert established.get("/k").status == 200  # the old session carries on
    assert established.subject()["organizationName"] == "old"
    established.close()
    assert metric(node, "edgecache_tls_reloads_total", outcome="ok") >= 1


def test_issue_5_certificate_file_change_is_picked_up_without_a_signal(
        start_edgecache, tmp_path, pki):
    files = live_files(tmp_path, pki, "old")
    node = start_edgecache(config=config_for(files))
    assert organization(node, pki) == "old"
    time.sleep(1.1)  # a different mtime second on coarse file systems
    live_files(tmp_path, pki, "new")
    assert wait_for(lambda: organization(node, pki) == "new")
    assert "files changed" in node.stderr()


def test_issue_5_broken_new_certificate_keeps_the_old_one(start_edgecache, tmp_path, pki):
    files = live_files(tmp_path, pki, "old")
    node = start_edgecache(config=config_for(files))
    # The new key does not match the certificate still in place.
    shutil.copy(pki.certs["new"]["key"], files["key"])
    node.signal(signal.SIGHUP)
    assert wait_for(lambda: metric(node, "edgecache_tls_reloads_total", outcome="failed") >= 1)
    assert organization(node, pki) == "old"
    assert "keeping the current certificates" in node.stderr()
    assert "does not belong to certificate" in node.stderr()


def ticket_keys(path, *names):
    """80-byte keys (16 name, 32 HMAC, 32 AES) derived from short names, first one encrypts."""
    with open(path, "wb") as out:
        for name in names:
            seed = name.encode().ljust(16, b".")[:16]
            out.write(seed + (seed * 2) + (seed[::-1] * 2))


def resumed(port, sess_in=None, sess_out=None):
    args = ["-tls1_2"]
    if sess_in:
        args += ["-sess_in", sess_in]
    if sess_out:
        args += ["-sess_out", sess_out]
    code, out = s_client(port, *args, input_bytes=b"")
    assert "Cipher is" in out, out
    return "Reused, TLSv1.2" in out


def test_issue_5_tickets_resume_across_two_nodes_sharing_the_key_file(start_edgecache, tmp_path, pki):
    key_file = str(tmp_path / "tickets.key")
    ticket_keys(key_file, "k1")
    files = live_files(tmp_path, pki, "old")
    a = start_edgecache(config=config_for(files, ticket_key_file=key_file, session_cache_size=0))
    b = start_edgecache(config=config_for(files, ticket_key_file=key_file, session_cache_size=0))
    session = str(tmp_path / "session.pem")
    assert not resumed(a.tls_port, sess_out=session)
    assert resumed(b.tls_port, sess_in=session)  # b never saw this session: the ticket did it
    # Rotation: the new key first, the old one still listed, then the old one retired.
    ticket_keys(key_file, "k2", "k1")
    b.signal(signal.SIGHUP)
    assert wait_for(lambda: metric(b, "edgecache_tls_reloads_total", outcome="ok") >= 1)
    assert resumed(b.tls_port, sess_in=session)
    ticket_keys(key_file, "k2")
    b.signal(signal.SIGHUP)
    assert wait_for(lambda: metric(b, "edgecache_tls_reloads_total", outcome="ok") >= 2)
    assert not resumed(b.tls_port, sess_in=session)
    assert metric(b, "edgecache_tls_handshakes_total", session="reused") >= 2


def test_issue_5_tls13_tickets_resume_across_two_nodes_sharing_the_key_file(
        start_edgecache, tmp_path, pki, origin):
    import ssl
    origin.script("/t", Reply(200, CACHEABLE, b"t"))
    key_file = str(tmp_path / "tickets13.key")
    ticket_keys(key_file, "k13")
    files = live_files(tmp_path, pki, "old")
    a = start_edgecache(config=config_for(files, ticket_key_file=key_file, session_cache_size=0))
    b = start_edgecache(config=config_for(files, ticket_key_file=key_file, session_cache_size=0))
    context = pki.context(minimum=ssl.TLSVersion.TLSv1_3)
    with TlsClient(a.tls_port, context) as first:
        assert first.get("/t").status == 200  # TLS 1.3 tickets arrive after the handshake
        assert first.sock.version() == "TLSv1.3"
        session = first.sock.session
    assert session is not None and session.has_ticket
    with TlsClient(b.tls_port, context, session=session) as second:
        assert second.get("/t").status == 200
        assert second.sock.session_reused, "node b did not resume node a's TLS 1.3 ticket"
    assert metric(b, "edgecache_tls_handshakes_total", version="TLSv1.3", session="reused") == 1
    # A node with other ticket keys cannot: a full handshake.
    other_key = str(tmp_path / "other.key")
    ticket_keys(other_key, "zz")
    c = start_edgecache(config=config_for(files, ticket_key_file=other_key, session_cache_size=0))
    with TlsClient(c.tls_port, context, session=session) as third:
        assert third.get("/t").status == 200
        assert not third.sock.session_reused
    # And with openssl s_client -sess_out / -sess_in over TLS 1.3 as well.
    sess = str(tmp_path / "session13.pem")
    code, out = s_client(a.tls_port, "-tls1_3", "-ign_eof", "-sess_out", sess,
                         input_bytes=b"GET /t HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n")
    assert "TLSv1.3" in out, out
    code, out = s_client(b.tls_port, "-tls1_3", "-sess_in", sess, input_bytes=b"")
    assert "Reused, TLSv1.3" in out, out


def test_issue_5_a_bad_ticket_key_file_refuses_start(tmp_path, pki):
    import subprocess
    from harness.edgecache import Edgecache
    key_file = tmp_path / "short.key"
    key_file.write_bytes(b"x" * 79)
    files = live_files(tmp_path, pki, "old")
    node = Edgecache(tmp_path, None, config=config_for(files, ticket_key_file=str(key_file)))
    node.write_config()
    done = subprocess.run([node.binary, "--config", node.config_path], capture_output=True, timeout=30)
    assert done.returncode == 1
    assert "not a whole number of 80-byte keys" in (done.stdout + done.stderr).decode()


def test_issue_5_ocsp_staple_from_the_file_beside_the_certificate(start_edgecache, tmp_path, pki):
    files = live_files(tmp_path, pki, "old")
    node = start_edgecache(config=config_for(files))
    code, out = s_client(node.tls_port, "-status")
    assert "OCSP response: no response sent" in out, out
    pki.staple("old", files["cert"] + ".ocsp")  # appears later: picked up as a file change

    def stapled():
        return "OCSP Response Status: successful" in s_client(node.tls_port, "-status")[1]
    assert wait_for(stapled)
    _, text = node.admin("GET", "/metrics")
    assert 'edgecache_tls_ocsp_staple_age_seconds{certificate="%s"}' % files["cert"] in text
    age = metric(node, "edgecache_tls_ocsp_staple_age_seconds", certificate=files["cert"])
    assert 0 <= age < 120
    code, out = s_client(node.tls_port, "-status", "-tls1_2")
    assert "OCSP Response Status: successful" in out, out


def test_issue_5_certificate_replacement_under_h2load_has_zero_failures(
        start_edgecache, tmp_path, pki, origin):
    import subprocess
    origin.script("/load", Reply(200, CACHEABLE, b"x" * 1024))
    files = live_files(tmp_path, pki, "old")
    node = start_edgecache(config=config_for(files))
    # Two new connections a second for six seconds (100 requests each), so handshakes
    # happen before, during and after each replacement while other connections carry on.
    load = subprocess.Popen(["h2load", "-n", "1200", "-c", "12", "-m", "4", "--rate=2",
                             "--connect-to=127.0.0.1:%d" % node.tls_port,
                             "https://example.test/load"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    for which in ("new", "old", "new"):
        time.sleep(1.2)
        live_files(tmp_path, pki, which)
        node.signal(signal.SIGHUP)
    out = load.communicate(timeout=60)[0].decode()
    match = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                      r"(\d+) failed, (\d+) errored", out)
    assert match, out
    assert match.group(4) == "1200" and match.group(5) == "0" and match.group(6) == "0", out
    assert metric(node, "edgecache_tls_reloads_total", outcome="ok") >= 3
    assert metric(node, "edgecache_tls_handshakes_total") >= 8

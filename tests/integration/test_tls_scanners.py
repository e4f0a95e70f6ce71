"""Issue 5, scanner gates: sslscan's XML and testssl's JSON against a TLS listener with the
default settings (ECDSA and RSA certificates). No SSLv2/SSLv3, TLS 1.0 or 1.1, no weak or
non-forward-secret cipher, no renegotiation, no heartbleed; testssl exits 0 even on critical
findings, so the gate reads its JSON severities. Findings about the test certificates
themselves (a private CA, a 30-day validity, no OCSP URI, no CAA record) are not ours to fix
and are left out of the gate, as are HSTS and HTTP checks of the page served."""

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from harness.tls import Pki

NOT_OURS = ("cert_", "DNS_CAA", "HSTS", "HTTP_", "engine_problem", "scanTime", "overall_grade",
            "sessionresumption_", "intermediate_cert", "pre_128cipher", "OCSP_stapling")


@pytest.fixture(scope="module")
def scanned_node(tmp_path_factory):
    from harness import Edgecache
    directory = tmp_path_factory.mktemp("scan")
    pki = Pki(directory / "pki")
    certs = [pki.issue("e", ["example.test"], "ecdsa", "e"), pki.issue("r", ["example.test"], "rsa", "r")]
    node = Edgecache(directory, None, config={"listeners": [
        {"address": "127.0.0.1:$PORT"},
        {"address": "127.0.0.1:$TLS_PORT", "tls": {"certificates": certs}}]})
    node.start()
    yield node, directory
    node.stop()
    node.check_sanitizers()


@pytest.mark.skipif(shutil.which("sslscan") is None, reason="sslscan not installed")
def test_issue_5_sslscan_finds_only_modern_protocols_and_strong_ciphers(scanned_node):
    node, directory = scanned_node
    out = directory / "sslscan.xml"
    subprocess.run(["sslscan", "--no-colour", "--sni-name=example.test", "--xml=%s" % out,
                    "127.0.0.1:%d" % node.tls_port], capture_output=True, timeout=120, check=True)
    test = ET.parse(out).getroot().find("ssltest")
    enabled = {(p.get("type"), p.get("version")): p.get("enabled") == "1" for p in test.iter("protocol")}
    assert enabled == {("ssl", "2"): False, ("ssl", "3"): False, ("tls", "1.0"): False,
                       ("tls", "1.1"): False, ("tls", "1.2"): True, ("tls", "1.3"): True}
    ciphers = [c for c in test.iter("cipher") if c.get("status") in ("accepted", "preferred")]
    assert ciphers
    for cipher in ciphers:
        assert cipher.get("strength") in ("strong", "acceptable"), cipher.attrib
        name = cipher.get("cipher")
        assert name.startswith("TLS_") or name.startswith("ECDHE-"), name  # forward secret
        assert "GCM" in name or "CHACHA20" in name, name                    # AEAD only
    assert test.find("renegotiation").get("supported") == "0"
    assert all(h.get("vulnerable") == "0" for h in test.iter("heartbleed"))
    groups = {g.get("id") for g in test.iter("group")}
    assert groups == {"0x001d", "0x0017"}  # X25519 and P-256 only


@pytest.mark.skipif(shutil.which("testssl") is None, reason="testssl not installed")
def test_issue_5_testssl_reports_no_findings_of_ours(scanned_node):
    node, directory = scanned_node
    out = directory / "testssl.json"
    subprocess.run(["testssl", "--quiet", "--color", "0", "--warnings", "off", "-p", "-s", "-P",
                    "-S", "-h", "-U", "--jsonfile", str(out), "https://127.0.0.1:%d/" % node.tls_port],
                   capture_output=True, timeout=600)
    findings = json.loads(out.read_text())
    by_id = {f["id"]: f for f in findings}
    for legacy in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        assert by_id[legacy]["finding"] == "not offered", by_id[legacy]
    assert by_id["TLS1_3"]["finding"].startswith("offered")
    bad = [f for f in findings if f["severity"] in ("CRITICAL", "HIGH", "MEDIUM", "WARN")
           and not f["id"].startswith(NOT_OURS)]
    assert not bad, bad

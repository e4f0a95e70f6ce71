"""Process lifecycle and the command line: SIGHUP reload (bad and good), SIGTERM drain,
--check-config, quick-start flags without a config file, --version and --help."""

import os
import signal
import subprocess
import threading
import time

import pytest

from harness import Client, Edgecache, Reply
from harness.client import request_bytes
from harness.edgecache import free_port, require_binary


def run(args, timeout=20):
    return subprocess.run([require_binary()] + args, capture_output=True, text=True,
                          timeout=timeout)


def test_version_and_help():
    version = run(["--version"])
    assert version.returncode == 0 and "edgecache" in version.stdout.lower()
    help_text = run(["--help"])
    assert help_text.returncode == 0
    for flag in ("--config", "--check-config", "--listen", "--origin", "--memory", "--workers",
                 "--admin", "--name"):
        assert flag in help_text.stdout


def test_check_config_reports_every_error_with_line_and_column(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("node_name: n1\n"
                    "listeners:\n"
                    "  - address: 127.0.0.1:8080\n"
                    "cache:\n"
                    "  memory_size: lots\n"
                    "  listner: 1\n")
    result = run(["--check-config", str(path)])
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "%s:5:" % path in output, output  # the bad size
    assert "%s:6:" % path in output, output  # the unknown key
    good = tmp_path / "good.yaml"
    good.write_text("listeners:\n  - address: 127.0.0.1:8080\n"
                    "services:\n  - name: s\n    hosts: ['*']\n"
                    "    origins:\n      - address: 127.0.0.1:8000\n")
    result = run(["--check-config", str(good)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "configuration OK" in result.stdout


def test_quick_start_flags_without_config_file(tmp_path, origin):
    port, admin = free_port(), free_port()
    node = Edgecache(tmp_path, origin, use_config_file=False,
                     args=["--listen", "127.0.0.1:%d" % port, "--origin", origin.address,
                           "--memory", "64MiB", "--workers", "1",
                           "--admin", "127.0.0.1:%d" % admin, "--name", "quick"])
    node.port, node.admin_port = port, admin
    node.start()
    try:
        origin.script("/q", Reply(200, {"Cache-Control": "max-age=60"}, b"quick"))
        assert node.get("/q").header("X-Cache") == "quick miss"
        assert node.get("/q").header("X-Cache") == "quick hit"
        assert origin.request_count("/q") == 1
    finally:
        assert node.stop() == 0
        node.check_sanitizers()


def test_sighup_with_bad_config_keeps_serving_and_good_one_applies(edgecache, origin):
    origin.script("/h", Reply(200, {"Cache-Control": "max-age=60"}, b"h"))
    assert edgecache.get("/h").header("X-Cache").startswith("test-node ")
    edgecache.reload(text="listeners: [\nnot yaml at all: {{{\n")
    assert edgecache.process.poll() is None
    assert edgecache.healthz()[0] == 200
    assert edgecache.get("/h").status == 200
    good = dict(edgecache.config, node_name="renamed-node")
    edgecache.reload(config=good)
    assert edgecache.get("/h2").header("X-Cache").startswith("renamed-node ")


@pytest.mark.slow
def test_sigterm_drains_in_flight_request_then_exits_zero(start_edgecache, origin):
    node = start_edgecache(config={"limits": {"drain_timeout": "10s"}})
    body = b"s" * 100000
    origin.script("/slow", Reply(200, {"Cache-Control": "no-store"}, body, chunk_size=10000,
                                 delay_between_chunks=0.2))
    with Client(node.port, timeout=20) as client:
        client.send(request_bytes("GET", "/slow"))
        _, status, _, headers = client.read_head()
        node.signal(signal.SIGTERM)
        time.sleep(0.3)
        if node.process.poll() is None:
            assert node.healthz()[0] == 503
        with pytest.raises(OSError):
            Client(node.port, timeout=2).get("/new")
        received, _ = client.read_body(status, headers)
    assert status == 200 and received == body
    assert node.stop() == 0

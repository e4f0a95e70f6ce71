"""Issue 4, metrics and alerts end to end: `promtool check metrics` on the real /metrics after
real traffic, and a real Prometheus (Debian's package) scraping a real edgecache that loses its
origin, until EdgecacheOriginUnreachable fires through the Prometheus HTTP API.

The alert rules are deploy/prometheus/alerts.yml with every `for:` shortened to 2s (the
expressions are the shipped ones; only the waiting is cut) and 1s scrape and evaluation
intervals, so the whole test is bounded (< 60 s)."""

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request

import pytest

from harness import Reply
from harness.edgecache import REPO, free_port

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"


def test_issue_4_metrics_pass_promtool_after_traffic(start_edgecache, origin):
    if not os.access(PROMTOOL, os.X_OK):
        pytest.skip("promtool not installed (scripts/install-deps test)")
    node = start_edgecache()
    origin.script("/c", Reply(200, {"Cache-Control": "max-age=60"}, b"cached"))
    origin.script("/p", Reply(200, {"Cache-Control": "no-store"}, b"passed"))
    for path in ("/c", "/c", "/p", "/missing"):
        node.get(path)
    node.request("TRACE", "/")
    status, text = node.admin("GET", "/metrics")
    assert status == 200
    check = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    # The latency histograms carry service, cache result and status class.
    assert node.metric("edgecache_client_ttfb_seconds_count", service="default",
                       cache_result="hit", status_class="2xx") == 1
    assert node.metric("edgecache_client_response_seconds_count", service="default",
                       cache_result="miss", status_class="2xx") >= 1
    assert node.metric("edgecache_client_ttfb_seconds_count", service="default",
                       cache_result="int", status_class="4xx") == 1
    assert node.metric("edgecache_origin_ttfb_seconds_count", service="default") >= 3
    assert node.metric("edgecache_client_connections_max") == 10000


def shortened_rules(target):
    with open(os.path.join(REPO, "deploy", "prometheus", "alerts.yml")) as f:
        text = f.read()
    text = re.sub(r"(\n\s+for:) \d+[smh]", r"\1 2s", text)
    with open(target, "w") as f:
        f.write(text)


def api(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as resp:
        return json.loads(resp.read().decode("utf-8"))


def test_issue_4_prometheus_fires_origin_unreachable(start_edgecache, origin, tmp_path):
    if not os.access(PROMETHEUS, os.X_OK):
        pytest.skip("prometheus not installed (scripts/install-deps test)")
    started = time.monotonic()
    node = start_edgecache(config={"services": [{
        "name": "wiki", "hosts": ["*"],
        "origins": [{"address": origin.address, "connect_timeout": "1s"}]}]})
    origin.script("/ok", Reply(200, {"Cache-Control": "no-store"}, b"fine"))
    assert node.get("/ok").status == 200

    prom_dir = tmp_path / "prometheus"
    prom_dir.mkdir()
    shortened_rules(str(prom_dir / "alerts.yml"))
    (prom_dir / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "rule_files:\n  - alerts.yml\n"
        "scrape_configs:\n  - job_name: edgecache\n    static_configs:\n"
        "      - targets: ['127.0.0.1:%d']\n" % node.admin_port)
    port = free_port()
    log = open(str(prom_dir / "prometheus.log"), "wb")
    prometheus = subprocess.Popen(
        [PROMETHEUS, "--config.file=%s" % (prom_dir / "prometheus.yml"),
         "--storage.tsdb.path=%s" % (prom_dir / "data"),
         "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % port, timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert prometheus.poll() is None, open(str(prom_dir / "prometheus.log")).read()
            assert time.monotonic() < deadline, "prometheus did not become ready"
            time.sleep(0.2)

        # Healthy first: the target is up and nothing fires.
        deadline = time.monotonic() + 10
        while True:
            result = api(port, "/api/v1/query?query=up%7Bjob%3D%22edgecache%22%7D")["data"]["result"]
            if result and result[0]["value"][1] == "1":
                break
            assert time.monotonic() < deadline, "edgecache never scraped"
            time.sleep(0.3)
        assert not [a for a in api(port, "/api/v1/alerts")["data"]["alerts"]
                    if a["labels"]["alertname"] == "EdgecacheOriginUnreachable"]

        # The fault: the origin goes away; clients keep asking (and get 502).
        origin.close()
        firing = None
        deadline = started + 55
        while time.monotonic() < deadline and firing is None:
            for _ in range(5):
                assert node.get("/ok").status == 502
            for alert in api(port, "/api/v1/alerts")["data"]["alerts"]:
                if (alert["labels"]["alertname"] == "EdgecacheOriginUnreachable"
                        and alert["state"] == "firing"):
                    firing = alert
            time.sleep(0.2)
        assert firing is not None, "EdgecacheOriginUnreachable never fired: %s" % json.dumps(
            api(port, "/api/v1/alerts"))
        assert firing["labels"]["origin"] == "wiki/%s" % origin.address
        assert firing["labels"]["severity"] == "critical"
        assert time.monotonic() - started < 60
    finally:
        prometheus.terminate()
        try:
            prometheus.wait(10)
        except subprocess.TimeoutExpired:
            prometheus.kill()
            prometheus.wait()
        log.close()

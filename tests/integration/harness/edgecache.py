"""Edgecache: runs the real edgecache binary for one test. Writes its YAML config into the
test's tmp dir with ports from bind(0), starts it with --test-clock, waits for /healthz,
collects stderr, and fails the test on any sanitizer report."""

import copy
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
import yaml

from .client import Client, fetch
from .clock import TestClock

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer",
                     "ERROR: ThreadSanitizer", "WARNING: ThreadSanitizer")
NODE = "test-node"


def find_binary():
    """EDGECACHE_BIN if set (must exist), else the asan then dev build; None if neither."""
    explicit = os.environ.get("EDGECACHE_BIN")
    if explicit:
        return explicit
    for preset in ("asan", "dev"):
        path = os.path.join(REPO, "build", preset, "src", "server", "edgecache")
        if os.access(path, os.X_OK):
            return path
    return None


def require_binary():
    path = find_binary()
    if path is None:
        pytest.skip("edgecache binary not built (set EDGECACHE_BIN)")
    if not os.access(path, os.X_OK):
        pytest.fail("EDGECACHE_BIN=%s is not an executable" % path)
    return path


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def deep_merge(base, override):
    out = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def sanitizer_report(text):
    return any(marker in text for marker in SANITIZER_MARKERS)


class Edgecache:
    def __init__(self, tmp_path, origin=None, config=None, clock=None, args=None,
                 use_config_file=True, test_clock=True):
        self.binary = require_binary()
        self.tmp_path = tmp_path
        self.clock = clock or (origin.clock if origin is not None else TestClock())
        self.port = free_port()
        self.admin_port = free_port()
        self.config_path = os.path.join(str(tmp_path), "edgecache.yaml")
        self.stderr_path = os.path.join(str(tmp_path), "edgecache.stderr")
        self.args = list(args or [])
        self.use_config_file = use_config_file
        self.test_clock = test_clock
        self.process = None
        self.returncode = None
        # A second listener port (TLS tests), distinct from the others: a listener address
        # "127.0.0.1:$TLS_PORT" (or "$PORT") in `config` is given these.
        self.tls_port = free_port()
        while self.tls_port in (self.port, self.admin_port):
            self.tls_port = free_port()
        origin_address = origin.address if origin is not None else "127.0.0.1:%d" % free_port()
        self.config = deep_merge(self.base_config(origin_address), config)
        for listener in self.config.get("listeners", []):
            address = listener.get("address", "")
            listener["address"] = address.replace("$TLS_PORT", str(self.tls_port)).replace(
                "$PORT", str(self.port))

    def base_config(self, origin_address):
        return {
            "node_name": NODE,
            "workers": 1,
            "listeners": [{"address": "127.0.0.1:%d" % self.port}],
            "admin": {"address": "127.0.0.1:%d" % self.admin_port},
            "limits": {"drain_timeout": "5s"},
            "services": [{
                "name": "default",
                "hosts": ["*"],
                "origins": [{"address": origin_address}],
            }],
        }

    # --- lifecycle -------------------------------------------------------------------------
    def write_config(self, config=None, text=None):
        with open(self.config_path, "w") as out:
            out.write(text if text is not None else yaml.safe_dump(config or self.config))

    def start(self, timeout=30.0):
        command = [self.binary]
        if self.use_config_file:
            self.write_config()
            command += ["--config", self.config_path]
        if self.test_clock:
            command.append("--test-clock")
        command += self.args
        self.stderr_file = open(self.stderr_path, "wb")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        self.process = subprocess.Popen(command, stdout=self.stderr_file, stderr=subprocess.STDOUT,
                                        env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail("edgecache exited with %s during start-up:\n%s" % (
                    self.process.returncode, self.stderr()))
            try:
                if self.healthz()[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        pytest.fail("edgecache did not become healthy in %.0fs:\n%s" % (timeout, self.stderr()))

    def stop(self, timeout=30.0):
        """SIGTERM, wait, and return the exit code."""
        if self.process is None or self.returncode is not None:
            return self.returncode
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.returncode = self.process.wait()
            pytest.fail("edgecache did not exit within %.0fs of SIGTERM:\n%s" % (
                timeout, self.stderr()[-4000:]))
        finally:
            self.stderr_file.close()
        return self.returncode

    def signal(self, signum):
        self.process.send_signal(signum)

    def reload(self, config=None, text=None, settle=1.0):
        """Rewrites the config file and sends SIGHUP; waits `settle` seconds."""
        if config is not None:
            self.config = config
        self.write_config(config=self.config, text=text)
        self.signal(signal.SIGHUP)
        time.sleep(settle)

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def check_sanitizers(self):
        text = self.stderr()
        if sanitizer_report(text):
            pytest.fail("sanitizer report in edgecache output:\n" + text[-8000:])

    # --- talking to it ---------------------------------------------------------------------
    def client(self, timeout=10.0):
        return Client(self.port, timeout=timeout)

    def request(self, method, path, headers=None, body=b"", host="example.test", timeout=10.0):
        return fetch(self.port, method, path, headers, body, host, timeout)

    def get(self, path, headers=None, host="example.test"):
        return self.request("GET", path, headers, host=host)

    def admin(self, method, path, timeout=5.0):
        """(status, body text) from the admin listener."""
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.admin_port, path),
                                     method=method, data=b"" if method == "POST" else None)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode("utf-8", "replace")

    def healthz(self):
        return self.admin("GET", "/healthz", timeout=1.0)

    def freeze_clock(self):
        """Freezes the shared TestClock and sets edgecache's clock to the same second, so
        both stop following real time: ages and expiry are exact, whatever the machine's speed."""
        epoch = int(self.clock.freeze())
        status, body = self.admin("POST", "/debug/clock/set?epoch=%d" % epoch)
        assert status == 200, "clock set failed: %d %s" % (status, body)

    def advance(self, seconds):
        """Moves edgecache's test clock and the shared TestClock forward together."""
        if not seconds:
            return
        status, body = self.admin("POST", "/debug/clock/advance?seconds=%d" % seconds)
        assert status == 200, "clock advance failed: %d %s" % (status, body)
        self.clock.advance(seconds)

    def metrics(self):
        status, text = self.admin("GET", "/metrics")
        assert status == 200, text
        return parse_metrics(text)

    def metric(self, name, **labels):
        """The sum of every sample of `name` whose labels include `labels` (0 if none)."""
        total = 0.0
        for (sample, sample_labels), value in self.metrics().items():
            if sample == name and all(dict(sample_labels).get(k) == v for k, v in labels.items()):
                total += value
        return total


def parse_metrics(text):
    """Prometheus text format -> {(name, frozenset(label pairs)): float}."""
    samples = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "{" in line:
            name, _, rest = line.partition("{")
            label_text, _, value = rest.rpartition("}")
            labels = []
            for part in _split_labels(label_text):
                key, _, raw = part.partition("=")
                labels.append((key.strip(), raw.strip().strip('"')))
        else:
            name, _, value = line.partition(" ")
            labels = []
        samples[(name.strip(), frozenset(labels))] = float(value.split()[0])
    return samples


def _split_labels(text):
    parts, current, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current)
    return parts

"""Runs h2load pinned to CPU 1 and turns its report (and per-request log) into numbers.

Returns the same WrkResult as wrk_run, so the runner's measure() accounts CPU and origin
requests around either load generator the same way. h2load prints no percentiles; p50/p99 come
from its --log-file (one line per request: start us, status, microseconds to the end of the
response). Writing that log costs h2load a little CPU, the same for every server.
"""

import os
import re
import statistics
import subprocess
import tempfile

from wrk_run import WRK_CPU, WrkResult

H2LOAD_CPU = WRK_CPU


def _seconds(value, unit):
    return float(value) * {"s": 1.0, "ms": 1e-3, "us": 1e-6}[unit]


def _ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not m:
        raise ValueError(f"unparsed h2load time {text!r}")
    return _seconds(m.group(1), m.group(2)) * 1000.0


def parse(output, latencies_us=()):
    """Parse h2load's text report; raises ValueError when a figure we rely on is missing."""
    r = WrkResult(raw=output)
    m = re.search(r"^finished in ([\d.]+)(s|ms|us), ([\d.]+) req/s", output, re.M)
    if not m:
        raise ValueError("h2load printed no 'finished in'")
    r.seconds = _seconds(m.group(1), m.group(2))
    m = re.search(r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", output, re.M)
    if not m:
        raise ValueError("h2load printed no request counts")
    r.requests = int(m.group(4))
    failed, errored, timeout = int(m.group(5)), int(m.group(6)), int(m.group(7))
    r.rps = r.requests / r.seconds if r.seconds else 0.0
    m = re.search(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", output, re.M)
    if not m:
        raise ValueError("h2load printed no status codes")
    r.non2xx = int(m.group(3)) + int(m.group(4))
    r.socket_errors = failed + errored + timeout
    m = re.search(r"^time for connect:\s+(\S+)\s+(\S+)\s+(\S+)", output, re.M)
    r.connect_mean_ms = _ms(m.group(3)) if m else 0.0
    m = re.search(r"^time to 1st byte:\s+(\S+)\s+(\S+)\s+(\S+)", output, re.M)
    r.ttfb_mean_ms = _ms(m.group(3)) if m else 0.0
    if latencies_us:
        q = statistics.quantiles(latencies_us, n=100, method="inclusive")
        r.p50_ms, r.p99_ms = q[49] / 1000.0, q[98] / 1000.0
    return r


def readLog(path):
    """Microseconds to the end of each successful response, from h2load's --log-file."""
    out = []
    with open(path) as f:
        for line in f:
            cols = line.split("\t")
            if len(cols) >= 3 and cols[1] != "-1":
                out.append(int(cols[2]))
    return out


def run(url, options, timeout, authority=None):
    """One bounded h2load pass (options: h2load arguments before the URL); returns
    (WrkResult, argv) or raises on failure."""
    fd, log = tempfile.mkstemp(prefix="h2load-", suffix=".log")
    os.close(fd)
    argv = ["taskset", "-c", str(H2LOAD_CPU), "h2load", "-t1", f"--log-file={log}"] + options
    if authority:
        # The certificate's name, not the URL's 127.0.0.1: a server that checks that the
        # certificate covers the request's host (421, RFC 9113 §9.1.1) must accept it.
        argv += ["-H", f":authority: {authority}"]
    argv.append(url)
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"h2load failed ({out.returncode}): "
                               f"{(out.stderr or out.stdout).strip()[:300]}")
        return parse(out.stdout, readLog(log)), argv
    finally:
        os.unlink(log)


def handshakeOptions(seconds, rate=2000, h1=True):
    """One request per connection, new connections at `rate` per second for `seconds`: every
    request pays a full handshake (h2load keeps no session between connections)."""
    total = int(rate * seconds)
    opts = ["-c", str(total), "-n", str(total), "-m1",
            "-r", str(max(1, rate // 10)), "--rate-period", "100ms"]
    return (["--h1"] if h1 else []) + opts


# No --warm-up-time: the runner accounts server CPU over h2load's whole run, so a warm-up
# inside it would be charged to the measured requests; the runner warms with a separate run.
def h2Options(seconds, clients=8, streams=100):
    return ["-c", str(clients), "-m", str(streams), "-D", str(seconds)]


def h1Options(seconds, clients=64):
    return ["--h1", "-c", str(clients), "-m1", "-D", str(seconds)]

"""Runs wrk pinned to CPU 1 and turns its --latency report into numbers."""

import os
import re
import subprocess
from dataclasses import dataclass

WRK_CPU = 1
CONNECTIONS = 64

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@dataclass
class WrkResult:
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    non2xx: int = 0
    socket_errors: int = 0
    raw: str = ""


def _ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(f"unparsed wrk latency {text!r}")
    return float(m.group(1)) * _UNITS_MS[m.group(2)]


def parse(output):
    """Parse wrk's text report; raises ValueError when a figure we rely on is missing."""
    r = WrkResult(raw=output)
    m = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m),", output, re.M)
    if not m:
        raise ValueError("wrk printed no request count")
    r.requests = int(m.group(1))
    r.seconds = _ms(m.group(2) + m.group(3)) / 1000.0
    m = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if not m:
        raise ValueError("wrk printed no Requests/sec")
    r.rps = float(m.group(1))
    for pct, attr in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", output, re.M)
        if not m:
            raise ValueError(f"wrk printed no {pct}% latency (missing --latency?)")
        setattr(r, attr, _ms(m.group(1)))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    r.non2xx = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    r.socket_errors = sum(int(g) for g in m.groups()) if m else 0
    return r


def run(url, seconds, script=None, nonce=None):
    """One bounded wrk pass; returns (WrkResult, Popen-less argv) or raises on failure."""
    argv = ["taskset", "-c", str(WRK_CPU), "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s",
            "--latency", "--timeout", "5s"]
    if script:
        argv += ["-s", script]
    argv.append(url)
    env = dict(os.environ)
    if nonce:
        env["EC_BENCH_NONCE"] = nonce
    # wrk ends by itself after -d; the timeout only guards against a wedged run.
    out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=seconds + 30)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr.strip()[:300]}")
    return parse(out.stdout), argv

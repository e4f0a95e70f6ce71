#!/usr/bin/env python3
"""Disk-tier hits, edgecache vs Apache Traffic Server, side by side in one bounded run.

Both servers get the same storage: a RAM/memory tier smaller than the working set (default
32 MiB) in front of a disk store / ATS cache span of the same size (default 1 GiB), both files in
the same directory (same file system). For 256 KiB and 4 MiB objects, a working set of N distinct
URLs (default 4x the memory tier) is warmed twice, then `wrk -t1 -c64` cycles over it with a Lua
script (round robin, so an LRU-ish memory tier keeps evicting what comes next: hits come from
the disk tier). Server pinned to CPU 0 (every thread checked), wrk to CPU 1, origin (nginx, one
worker) to CPU 1 too and idle during passes. Per cell: req/s, server CPU per request
(utime+stime of the server's process tree / requests), the origin's request delta (must be 0:
every response was a hit), where edgecache's hits came from (edgecache_tier_hits_total delta),
ATS's RAM-cache hits (traffic_ctl, when it answers), and CPU 0 time taken by other work.

The store file and the span file are regular files: reads hit the page cache when it holds them,
so this measures each server's disk-tier path on this machine, not the device.

  bench/macro/disk_vs_ats.py --edgecache build/release/src/server/edgecache
        [--memory-mib 32] [--disk-mib 1024] [--working-set-x 4] [--seconds 8] [--keep]

Whole run: about 1-2 minutes (3 server set-ups x 2 sizes x (warm-up + one pass)).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
import procs  # noqa: E402
import wrk_run  # noqa: E402

KIB = 1024
MIB = 1024 * KIB
SIZES = [("256KiB", 256 * KIB), ("4MiB", 4 * MIB)]
SERVER_CPU = 0
ORIGIN_CPU = 1


def log(msg):
    print(msg, flush=True)


def httpGet(port, path, timeout=10):
    """(status, body, headers) or None."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read(), r.headers
    except OSError:
        return None


def originStart(sup, root, port):
    """nginx serving /d/<label>/<n> from one file per size, with a request counter."""
    www = os.path.join(root, "www")
    os.makedirs(www, exist_ok=True)
    for label, size in SIZES:
        block = bytes((i * 131 + size) & 0xFF for i in range(4096))
        with open(os.path.join(www, label + ".bin"), "wb") as f:
            f.write((block * (size // len(block) + 1))[:size])
    locations = "\n".join(
        f"    location /d/{label}/ {{ try_files /{label}.bin =404; }}" for label, _ in SIZES)
    with open(os.path.join(root, "nginx.conf"), "w") as f:
        f.write(f"""
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  default_type application/octet-stream;
  sendfile on;
  keepalive_requests 100000000;
  client_body_temp_path {root}/tmp_body;
  proxy_temp_path {root}/tmp_proxy;
  fastcgi_temp_path {root}/tmp_fcgi;
  uwsgi_temp_path {root}/tmp_uwsgi;
  scgi_temp_path {root}/tmp_scgi;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    root {www};
    add_header Cache-Control "{peers.CACHE_CONTROL}" always;
    location = {peers.STATUS_PATH} {{ stub_status; }}
{locations}
  }}
}}
""")
    proc = sup.start("origin", ["nginx", "-e", f"{root}/error.log", "-p", root, "-c",
                                f"{root}/nginx.conf"], ORIGIN_CPU, f"{root}/origin.log")
    if not waitFor(lambda: httpGet(port, peers.STATUS_PATH), proc, 15):
        raise RuntimeError("origin nginx did not start")
    return proc


def originRequests(port):
    status = httpGet(port, peers.STATUS_PATH)
    m = re.search(rb"\n\s*\d+\s+\d+\s+(\d+)", status[1]) if status else None
    if not m:
        raise RuntimeError("origin stub_status unreadable")
    return int(m.group(1))


def waitFor(check, proc, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if check():
            return True
        time.sleep(0.1)
    return False


def edgecacheSetup(root, port, origin, binary, memoryMib, diskMib, admission=""):
    admin = procs.freePort()
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root, "edgecache.yaml")
    with open(path, "w") as f:
        f.write(f"""
node_name: bench
workers: 1
listeners: [{{address: "127.0.0.1:{port}"}}]
admin: {{address: "127.0.0.1:{admin}"}}
cache:
  memory_size: {memoryMib}MiB
  max_object_size: 16MiB
{admission}  disk: [{{path: "{root}/store.bin", size: {diskMib}MiB}}]
services: [{{name: b, hosts: ["*"], origins: [{{address: "127.0.0.1:{origin}"}}]}}]
""")
    return [binary, "--config", path], admin


def edgecacheTiers(admin):
    got = httpGet(admin, "/metrics")
    if not got:
        return {}
    return {k: float(v) for k, v in re.findall(
        r'edgecache_tier_hits_total\{tier="(\w+)"\} ([\d.e+]+)', got[1].decode())}


def edgecacheMemory(admin):
    """The memory tier's size after a pass: bytes and objects (gauges)."""
    got = httpGet(admin, "/metrics")
    if not got:
        return {}
    return {k: float(v) for k, v in re.findall(
        r'^edgecache_(memory_bytes|memory_objects|tier_promotions_total) ([\d.e+]+)',
        got[1].decode(), re.M)}


def atsSetup(root, port, origin, memoryMib, diskMib):
    os.makedirs(root, exist_ok=True)
    peer = peers.trafficServerPeer(root, port, origin)
    # Same storage as edgecache: RAM cache of the memory tier's size, span of the disk's size.
    cfg = os.path.join(root, "etc", "records.config")
    with open(cfg) as f:
        text = f.read()
    text = text.replace("ram_cache.size INT 1073741824", f"ram_cache.size INT {memoryMib * MIB}")
    with open(cfg, "w") as f:
        f.write(text)
    span = os.path.join(root, "cache", "span.db")
    os.remove(span)
    with open(span, "wb") as f:
        f.truncate(diskMib * MIB)
    with open(os.path.join(root, "etc", "storage.config"), "w") as f:
        f.write(f"{span} {diskMib}M\n")
    # stats_over_http answers /_stats itself (a global hook, before remap): RAM-cache counters.
    with open(os.path.join(root, "etc", "plugin.config"), "w") as f:
        f.write("stats_over_http.so\n")
    return peer.argv


def atsRamHits(port):
    """ATS's RAM-cache hits and misses (a RAM-cache miss that is a cache hit was read from the
    span), or {} if stats_over_http does not answer."""
    got = httpGet(port, "/_stats")
    if not got:
        return {}
    stats = json.loads(got[1]).get("global", {})
    return {"ram": float(stats.get("proxy.process.cache.ram_cache.hits", 0)),
            "ram_miss": float(stats.get("proxy.process.cache.ram_cache.misses", 0))}


def writeCycle(path, label, objects):
    with open(path, "w") as f:
        f.write(f'local n = 0\nrequest = function()\n  n = n + 1\n'
                f'  return wrk.format("GET", "/d/{label}/" .. (n % {objects}))\nend\n')


def warm(port, label, size, objects):
    """Two rounds over the working set; the second round's statuses tell where hits came from."""
    bad = 0
    for _ in range(2):
        for i in range(objects):
            got = httpGet(port, f"/d/{label}/{i}", timeout=30)
            if not got or got[0] != 200 or len(got[1]) != size:
                bad += 1
        time.sleep(0.5)  # edgecache's disk writer / ATS's aggregation buffer publish meanwhile
    return bad


def otherOnCpu0(before, after, serverCpu):
    d = procs.cpuDelta(before, after)
    busy = d["user"] + d["nice"] + d["system"] + d["irq"] + d["softirq"] + d["steal"]
    total = sum(d.values())
    return max(0.0, busy - serverCpu) / total if total else 0.0


def measure(sup, name, argv, port, root, originPort, args, extra):
    log(f"-- {name}: starting")
    proc = sup.start(name, argv, SERVER_CPU, os.path.join(root, f"{name}.log"))
    cells = {}
    try:
        probe = f"/d/{SIZES[0][0]}/0"
        if not waitFor(lambda: (httpGet(port, probe) or (0,))[0] == 200, proc, 60):
            raise RuntimeError(f"{name} did not start proxying (see {root}/{name}.log)")
        for label, size in SIZES:
            objects = max(8, args.working_set_x * args.memory_mib * MIB // size)
            bad = warm(port, label, size, objects)
            script = os.path.join(root, f"cycle-{label}.lua")
            writeCycle(script, label, objects)
            pids = sup.tree(proc)
            pinned = {k: v for k, v in procs.affinityReport(pids).items() if v != str(SERVER_CPU)}
            tiersBefore = extra["tiers"]()
            originBefore = originRequests(originPort)
            cpuBefore, statBefore = procs.cpuByPid(pids), procs.cpuStat(SERVER_CPU)
            result, _ = wrk_run.run(f"http://127.0.0.1:{port}/", args.seconds, script=script)
            pids = sup.tree(proc)
            serverCpu = procs.cpuSpent(cpuBefore, procs.cpuByPid(pids))
            other = otherOnCpu0(statBefore, procs.cpuStat(SERVER_CPU), serverCpu)
            originDelta = originRequests(originPort) - originBefore - 1  # minus our own read
            tiersAfter = extra["tiers"]()
            pinned.update({k: v for k, v in procs.affinityReport(pids).items()
                           if v != str(SERVER_CPU)})
            cell = {
                "objects": objects, "working_set_mib": objects * size / MIB,
                "rps": result.rps, "requests": result.requests,
                "cpu_us_per_req": serverCpu * 1e6 / max(result.requests, 1),
                "p50_ms": result.p50_ms, "p99_ms": result.p99_ms,
                "non2xx": result.non2xx, "socket_errors": result.socket_errors,
                "origin_requests": originDelta, "warm_failures": bad,
                "other_on_cpu0": other, "unpinned_threads": pinned,
                "tiers": {k: tiersAfter.get(k, 0) - tiersBefore.get(k, 0) for k in tiersAfter},
                "state_after": extra.get("state", dict)(),
            }
            cells[label] = cell
            log(f"{name:9} {label:7} {cell['rps']:8.0f} req/s {cell['cpu_us_per_req']:7.1f} us"
                f" CPU/req  origin +{originDelta}  other-on-cpu0 {other:.0%}"
                f"  tiers {cell['tiers']}  ws {objects} x {label}  after {cell['state_after']}")
    finally:
        sup.stop(proc)
    return cells


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edgecache", default="build/release/src/server/edgecache")
    parser.add_argument("--memory-mib", type=int, default=32)
    parser.add_argument("--disk-mib", type=int, default=1024)
    parser.add_argument("--working-set-x", type=int, default=4,
                        help="working set as a multiple of the memory tier")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--json", help="write the cells here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    binary = os.path.abspath(args.edgecache)
    if not os.access(binary, os.X_OK):
        sys.exit(f"no edgecache binary at {binary}")
    base = os.path.abspath("build/bench")
    os.makedirs(base, exist_ok=True)
    work = tempfile.mkdtemp(prefix="disk-vs-ats-", dir=base)
    os.chmod(work, 0o755)  # nginx's worker (nobody) must reach the origin's files
    sup = procs.Supervisor()
    started = time.monotonic()
    try:
        originPort = procs.freePort()
        originStart(sup, os.path.join(work, "origin"), originPort)
        log(f"memory tier {args.memory_mib} MiB, disk {args.disk_mib} MiB (files under {work}),"
            f" working set {args.working_set_x}x memory, wrk -t1 -c{wrk_run.CONNECTIONS}"
            f" -d{args.seconds}s on CPU 1, server on CPU 0")
        results = {}
        # "edgecache": the default configuration (s3fifo memory tier, exponential admission,
        # disk hits promoted). "edgecache-disk": memory admission scale 1 KiB, so objects of
        # 256 KiB and up never enter memory and every hit is a disk-tier hit.
        for name, admission in (("edgecache", ""),
                                ("edgecache-disk", "  memory_admission_scale: 1KiB\n")):
            port = procs.freePort()
            root = os.path.join(work, name)
            argv, admin = edgecacheSetup(root, port, originPort, binary, args.memory_mib,
                                         args.disk_mib, admission)
            results[name] = measure(sup, name, argv, port, root, originPort, args,
                                    {"tiers": lambda admin=admin: edgecacheTiers(admin),
                                     "state": lambda admin=admin: edgecacheMemory(admin)})
        port = procs.freePort()
        root = os.path.join(work, "ats")
        argv = atsSetup(root, port, originPort, args.memory_mib, args.disk_mib)
        results["ats"] = measure(sup, "ats", argv, port, root, originPort, args,
                                 {"tiers": lambda: atsRamHits(port)})
        log("")
        log("| objects | edgecache config | edgecache hits (memory / disk) | edgecache req/s |"
            " ATS req/s | req/s ratio | edgecache CPU/req | ATS CPU/req | CPU/req ratio |"
            " origin requests (ec / ATS) | other work on CPU 0 (ec / ATS) |")
        log("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for label, _ in SIZES:
            a = results["ats"][label]
            for name in ("edgecache", "edgecache-disk"):
                e = results[name][label]
                log(f"| {label} x {e['objects']} ({e['working_set_mib']:.0f} MiB) | {name} |"
                    f" {e['tiers'].get('memory', 0):.0f} / {e['tiers'].get('disk', 0):.0f} |"
                    f" {e['rps']:,.0f} | {a['rps']:,.0f} | {e['rps'] / max(a['rps'], 1):.2f}x |"
                    f" {e['cpu_us_per_req']:.0f} µs | {a['cpu_us_per_req']:.0f} µs |"
                    f" {e['cpu_us_per_req'] / max(a['cpu_us_per_req'], 1e-9):.2f}x |"
                    f" {e['origin_requests']} / {a['origin_requests']} |"
                    f" {e['other_on_cpu0']:.0%} / {a['other_on_cpu0']:.0%} |")
        log(f"run took {time.monotonic() - started:.0f} s")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=2)
    finally:
        sup.stopAll()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
        [--parts hits,restart,zipf] [--restart-objects 1000000] [--zipf-requests 60000]

Whole run: about 1-2 minutes for the disk hits (3 server set-ups x 2 sizes x (warm-up + one
pass)), plus the rest of issue 3's benchmark line:
- restart: --restart-objects objects of 1000 bytes are stored through each server (wrk, misses
  to the origin), the server is stopped cleanly, its store / span file is synced and dropped from
  the page cache (posix_fadvise DONTNEED), and the server started again: the time from the spawn
  to the first response that is a hit on a stored object (the origin's counter did not move),
  then a sample of 2,000 stored objects tells how many survived. Same storage for both, sized
  for the objects; ATS's directory sized for them (min_average_object_size 1 KiB) and synced
  every 5 s (the bench waits --ats-settle seconds after the fill before the stop). About 3-5
  minutes per server for 1M objects (the fill).
- index bytes per object: edgecache's index (edgecache_disk_index_bytes / edgecache_disk_objects
  after the fill) beside ATS's 10-byte directory entry (Traffic Server's "Cache Architecture"
  developer documentation) and what ATS's directory costs per stored object at that size.
- zipf: a fixed-seed Zipf trace (alpha 0.9) over objects of 4-256 KiB whose total is 10x the
  memory tier, replayed through edgecache with both tiers, edgecache with memory only, and ATS
  (RAM cache = memory tier, span = disk); the first 20% warms, the hit ratio of the rest is
  1 - origin requests / requests.
"""

import argparse
import json
import os
import re
import shutil
import signal
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
RESTART_OBJECT_BYTES = 1000
# Zipf trace objects: size classes and their shares (mean ~45 KiB).
ZIPF_SIZES = [("4KiB", 4 * KIB), ("16KiB", 16 * KIB), ("64KiB", 64 * KIB), ("256KiB", 256 * KIB)]
ZIPF_SHARES = [0.4, 0.3, 0.2, 0.1]
ATS_DIR_ENTRY_BYTES = 10  # Traffic Server docs, developer guide "Cache Architecture" (Stripe Directory)


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
    extra = [("r", RESTART_OBJECT_BYTES)] + [(f"z{label}", size) for label, size in ZIPF_SIZES]
    for name, size in extra:
        with open(os.path.join(www, name + ".bin"), "wb") as f:
            f.write(bytes((i * 17 + size) & 0xFF for i in range(size)))
    locations = "\n".join(
        [f"    location /d/{label}/ {{ try_files /{label}.bin =404; }}" for label, _ in SIZES] +
        ["    location /r/ { try_files /r.bin =404; }"] +
        [f"    location /z/{label}/ {{ try_files /z{label}.bin =404; }}"
         for label, _ in ZIPF_SIZES])
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
    """diskMib 0: memory tier only."""
    admin = procs.freePort()
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root, "edgecache.yaml")
    disk = f'  disk: [{{path: "{root}/store.bin", size: {diskMib}MiB}}]\n' if diskMib else ""
    with open(path, "w") as f:
        f.write(f"""
node_name: bench
workers: 1
listeners: [{{address: "127.0.0.1:{port}"}}]
admin: {{address: "127.0.0.1:{admin}"}}
cache:
  memory_size: {memoryMib}MiB
  max_object_size: 16MiB
{admission}{disk}services: [{{name: b, hosts: ["*"], origins: [{{address: "127.0.0.1:{origin}"}}]}}]
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


def atsSetup(root, port, origin, memoryMib, diskMib, records=""):
    os.makedirs(root, exist_ok=True)
    peer = peers.trafficServerPeer(root, port, origin)
    # Same storage as edgecache: RAM cache of the memory tier's size, span of the disk's size.
    cfg = os.path.join(root, "etc", "records.config")
    with open(cfg) as f:
        text = f.read()
    text = text.replace("ram_cache.size INT 1073741824", f"ram_cache.size INT {memoryMib * MIB}")
    text += records
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


# ---- Restart with many objects stored, index bytes per object ----

def evict(path):
    """Syncs a file and drops it from the page cache: the next start reads the device."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def writeTraceScript(path, lines_path, count, marker):
    """wrk Lua: requests the paths of lines_path in order (cycling), stops its thread after
    `count` responses and creates `marker` (wrk's main thread sleeps out -d otherwise: the caller
    interrupts it, which makes it print its report)."""
    with open(path, "w") as f:
        f.write(f"""
local paths = {{}}
for line in io.lines("{lines_path}") do paths[#paths + 1] = line end
local n = 0
local done = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n - 1) % #paths + 1])
end
response = function(status, headers, body)
  done = done + 1
  if done == {count} then
    io.open("{marker}", "w"):close()
    wrk.thread:stop()
  end
end
""")


def replay(port, root, name, paths, seconds_cap, connections=32):
    """Replays `paths` through the server with wrk (-t1 -cN); returns (responses, seconds, non2xx)."""
    lines = os.path.join(root, f"{name}.paths")
    with open(lines, "w") as f:
        f.write("\n".join(paths) + "\n")
    script = os.path.join(root, f"{name}.lua")
    marker = os.path.join(root, f"{name}.done")
    if os.path.exists(marker):
        os.remove(marker)
    writeTraceScript(script, lines, len(paths), marker)
    argv = ["taskset", "-c", str(wrk_run.WRK_CPU), "wrk", "-t1", f"-c{connections}",
            f"-d{seconds_cap}s", "--latency", "--timeout", "10s", "-s", script,
            f"http://127.0.0.1:{port}/"]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while proc.poll() is None and not os.path.exists(marker):
            if time.monotonic() - started > seconds_cap + 30:
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # wrk prints its report and exits
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    result = wrk_run.parse(out)
    if not result.requests:
        raise RuntimeError(f"wrk gave no report: {err.strip()[:300]}")
    return result.requests, elapsed, result.non2xx


def edgecacheMetric(admin, name):
    got = httpGet(admin, "/metrics")
    if not got:
        return None
    m = re.search(r"^" + re.escape(name) + r"(?:\{[^}]*\})? ([\d.e+-]+)$", got[1].decode(), re.M)
    return float(m.group(1)) if m else None


def timeToFirstHit(sup, name, argv, port, originPort, objects, log_path, timeout=120):
    """Starts the server; polls stored objects (a new one each try, so a miss never makes the
    next try a hit) until one is a hit. Returns (seconds to the first 200, seconds to the first
    hit, proc)."""
    before = originRequests(originPort)
    started = time.monotonic()
    proc = sup.start(name, argv, SERVER_CPU, log_path)
    first_ok = None
    tries = 0
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited during the restart (see {log_path})")
        probe = (objects // 2 + tries * 7919) % objects
        tries += 1
        got = httpGet(port, f"/r/{probe}", timeout=5)
        now = time.monotonic() - started
        if not got or got[0] != 200:
            time.sleep(0.005)
            continue
        if first_ok is None:
            first_ok = now
        after = originRequests(originPort)
        missed = after - before - 1  # minus our own counter read
        before = after
        if missed == 0:
            return first_ok, now, proc
    raise RuntimeError(f"{name}: no hit within {timeout} s of the restart")


def survivors(port, originPort, objects, sample=2000):
    rng = __import__("random").Random(7)
    keys = rng.sample(range(objects), min(sample, objects))
    before = originRequests(originPort)
    for k in keys:
        got = httpGet(port, f"/r/{k}", timeout=10)
        if not got or got[0] != 200:
            raise RuntimeError("a stored object did not come back")
    missed = originRequests(originPort) - before - 1
    return 1.0 - missed / len(keys)


def restartCell(sup, name, argv, port, root, originPort, objects, files, settle):
    """Fill, stop, drop from the page cache, start again: the restart figures of one server."""
    log(f"-- {name}: storing {objects:,} objects of {RESTART_OBJECT_BYTES} bytes")
    log_path = os.path.join(root, f"{name}-restart.log")
    proc = sup.start(name, argv, SERVER_CPU, log_path)
    if not waitFor(lambda: (httpGet(port, "/r/0") or (0,))[0] == 200, proc, 60):
        raise RuntimeError(f"{name} did not start proxying (see {log_path})")
    done, seconds, non2xx = replay(port, root, f"{name}-fill",
                                   [f"/r/{i}" for i in range(objects)], 1800)
    log(f"{name}: filled {done:,} in {seconds:.0f} s ({done / max(seconds, 1e-9):,.0f} req/s,"
        f" non-2xx {non2xx})")
    state = settle(proc)
    stop_started = time.monotonic()
    sup.stop(proc, grace=120)
    stop_seconds = time.monotonic() - stop_started
    for f in files:
        evict(f)
    first_ok, first_hit, proc = timeToFirstHit(sup, name, argv, port, originPort, objects,
                                               log_path)
    kept = survivors(port, originPort, objects)
    after = settle(None) if name.startswith("edgecache") else {}
    sup.stop(proc, grace=120)
    cell = {"objects": objects, "fill_seconds": seconds, "stop_seconds": stop_seconds,
            "first_response_s": first_ok, "first_hit_s": first_hit, "survived": kept,
            "state": state, "after_restart": after}
    log(f"{name:9} restart: first response {first_ok:.3f} s, first hit {first_hit:.3f} s after"
        f" the spawn; {kept:.1%} of a 2,000-object sample still hits; stop took"
        f" {stop_seconds:.1f} s; {state} {after}")
    return cell


# ---- Zipf hit ratio ----

def zipfTrace(objects, requests, alpha, seed):
    rng = __import__("random").Random(seed)
    weights = [1.0 / (k ** alpha) for k in range(1, objects + 1)]
    total = sum(weights)
    cumulative = []
    acc = 0.0
    for w in weights:
        acc += w / total
        cumulative.append(acc)
    ids = list(range(objects))
    rng.shuffle(ids)  # popularity rank -> object id (sizes do not follow popularity)
    labels = []
    for i in range(objects):
        r = (i * 2654435761 % 1000) / 1000.0
        acc = 0.0
        for (label, _), share in zip(ZIPF_SIZES, ZIPF_SHARES):
            acc += share
            if r < acc:
                break
        labels.append(label)
    bisect = __import__("bisect")
    paths = []
    for _ in range(requests):
        rank = min(bisect.bisect_left(cumulative, rng.random()), objects - 1)
        i = ids[rank]
        paths.append(f"/z/{labels[i]}/{i}")
    return paths, labels


def zipfCell(sup, name, argv, port, root, originPort, paths, warm_share=0.2):
    log(f"-- {name}: Zipf trace of {len(paths):,} requests")
    log_path = os.path.join(root, f"{name}-zipf.log")
    proc = sup.start(name, argv, SERVER_CPU, log_path)
    try:
        probe = paths[0]
        if not waitFor(lambda: (httpGet(port, probe) or (0,))[0] == 200, proc, 60):
            raise RuntimeError(f"{name} did not start proxying (see {log_path})")
        warm = int(len(paths) * warm_share)
        replay(port, root, f"{name}-zipf-warm", paths[:warm], 900, connections=8)
        time.sleep(0.5)
        before = originRequests(originPort)
        done, seconds, non2xx = replay(port, root, f"{name}-zipf", paths[warm:], 1800,
                                       connections=8)
        missed = originRequests(originPort) - before - 1
    finally:
        sup.stop(proc, grace=60)
    ratio = 1.0 - missed / max(done, 1)
    log(f"{name:15} zipf: {done:,} requests in {seconds:.0f} s, {missed:,} went to the origin:"
        f" hit ratio {ratio:.3f} (non-2xx {non2xx})")
    return {"requests": done, "origin_requests": missed, "hit_ratio": ratio, "seconds": seconds}


def restartAndIndex(sup, work, originPort, binary, args, results):
    objects = args.restart_objects
    # Both stores sized for the objects with room to spare (edgecache's records of a 1000-byte
    # object through the proxy are ~1.6 KB: body fragment + head with the stored headers).
    disk_mib = max(256, objects * 2400 // MIB)
    port = procs.freePort()
    root = os.path.join(work, "edgecache-restart")
    argv, admin = edgecacheSetup(root, port, originPort, binary, args.memory_mib, disk_mib)

    def ecSettle(proc):
        deadline = time.monotonic() + 60
        while proc is not None and time.monotonic() < deadline:
            held = edgecacheMetric(admin, "edgecache_disk_objects") or 0
            if held >= objects * 0.999:
                break
            time.sleep(0.5)
        return {k: edgecacheMetric(admin, "edgecache_" + k) for k in (
            "disk_objects", "disk_index_bytes", "disk_rebuild_seconds",
            "disk_rebuild_from_checkpoint", "disk_rebuild_scanned_bytes")}

    store = os.path.join(root, "store.bin")
    results["restart"] = {"edgecache": restartCell(
        sup, "edgecache", argv, port, root, originPort, objects, [store, store + ".index"],
        ecSettle), "disk_mib": disk_mib}
    port = procs.freePort()
    root = os.path.join(work, "ats-restart")
    argv = atsSetup(root, port, originPort, args.memory_mib, disk_mib, records=(
        "CONFIG proxy.config.cache.min_average_object_size INT 1024\n"
        "CONFIG proxy.config.cache.dir.sync_frequency INT 5\n"))

    def atsSettle(proc):
        if proc is not None:
            time.sleep(args.ats_settle)  # directory syncs (every 5 s) before the stop
        return {}

    results["restart"]["ats"] = restartCell(
        sup, "ats", argv, port, root, originPort, objects,
        [os.path.join(root, "cache", "span.db")], atsSettle)
    e = results["restart"]["edgecache"]["state"]
    ats_entries = disk_mib * MIB // 1024
    results["index"] = {
        "edgecache_bytes_per_object": (e["disk_index_bytes"] or 0) / max(e["disk_objects"] or 1, 1),
        "edgecache_objects": e["disk_objects"],
        "ats_entry_bytes": ATS_DIR_ENTRY_BYTES,
        "ats_entries": ats_entries,
        "ats_bytes_per_stored_object": ATS_DIR_ENTRY_BYTES * ats_entries / objects,
    }


def zipfRatios(sup, work, originPort, binary, args, results):
    mean = sum(size * share for (_, size), share in zip(ZIPF_SIZES, ZIPF_SHARES))
    objects = int(10 * args.memory_mib * MIB / mean)
    paths, _ = zipfTrace(objects, args.zipf_requests, args.zipf_alpha, 2026)
    log(f"zipf: {objects:,} objects (~{objects * mean / MIB:.0f} MiB = 10x the memory tier),"
        f" alpha {args.zipf_alpha}, {len(paths):,} requests, seed 2026")
    results["zipf"] = {"objects": objects, "alpha": args.zipf_alpha,
                       "working_set_mib": objects * mean / MIB}
    for name, disk in (("edgecache", args.disk_mib), ("edgecache-memory", 0)):
        port = procs.freePort()
        root = os.path.join(work, name + "-zipf")
        argv, _ = edgecacheSetup(root, port, originPort, binary, args.memory_mib, disk)
        results["zipf"][name] = zipfCell(sup, name, argv, port, root, originPort, paths)
    port = procs.freePort()
    root = os.path.join(work, "ats-zipf")
    argv = atsSetup(root, port, originPort, args.memory_mib, args.disk_mib)
    results["zipf"]["ats"] = zipfCell(sup, "ats", argv, port, root, originPort, paths)


def printRest(results):
    if "restart" in results:
        r = results["restart"]
        e, a = r["edgecache"], r["ats"]
        log("")
        log(f"| restart, {e['objects']:,} objects of {RESTART_OBJECT_BYTES} B stored"
            f" ({r['disk_mib']} MiB store / span, page cache dropped) | edgecache | ATS | ratio |")
        log("|---|---:|---:|---:|")
        log(f"| spawn to first response | {e['first_response_s']:.3f} s |"
            f" {a['first_response_s']:.3f} s | {e['first_response_s'] / a['first_response_s']:.2f}x |")
        log(f"| spawn to first hit on a stored object | {e['first_hit_s']:.3f} s |"
            f" {a['first_hit_s']:.3f} s | {e['first_hit_s'] / a['first_hit_s']:.2f}x |")
        log(f"| stored objects still hits after the restart (2,000 sample) | {e['survived']:.1%} |"
            f" {a['survived']:.1%} | |")
        log(f"| clean stop took | {e['stop_seconds']:.1f} s | {a['stop_seconds']:.1f} s | |")
    if "index" in results:
        i = results["index"]
        log("")
        log(f"index: edgecache {i['edgecache_bytes_per_object']:.1f} bytes per object"
            f" ({i['edgecache_objects']:.0f} objects); ATS {i['ats_entry_bytes']} bytes per"
            f" directory entry (docs), {i['ats_entries']:,} entries for this span ="
            f" {i['ats_bytes_per_stored_object']:.1f} bytes per stored object")
    if "zipf" in results:
        z = results["zipf"]
        log("")
        log(f"| Zipf alpha {z['alpha']}, {z['objects']:,} objects ({z['working_set_mib']:.0f} MiB ="
            f" 10x memory) | hit ratio | origin requests | requests |")
        log("|---|---:|---:|---:|")
        for name in ("edgecache", "edgecache-memory", "ats"):
            c = z[name]
            log(f"| {name} | {c['hit_ratio']:.3f} | {c['origin_requests']:,} | {c['requests']:,} |")


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
    parser.add_argument("--parts", default="hits,restart,zipf",
                        help="comma-separated: hits (disk-hit cells), restart (restart time and"
                             " index bytes per object), zipf (hit ratio)")
    parser.add_argument("--restart-objects", type=int, default=1000000)
    parser.add_argument("--zipf-requests", type=int, default=60000)
    parser.add_argument("--zipf-alpha", type=float, default=0.9)
    parser.add_argument("--ats-settle", type=int, default=15,
                        help="seconds ATS gets after its fill before the stop (directory syncs)")
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
        parts = set(args.parts.split(","))
        if "hits" in parts:
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
        if "restart" in parts:
            restartAndIndex(sup, work, originPort, binary, args, results)
        if "zipf" in parts:
            zipfRatios(sup, work, originPort, binary, args, results)
        printRest(results)
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

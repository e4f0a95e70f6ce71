#!/usr/bin/env python3
"""Disk-tier hits vs memory-tier hits, bounded (seconds), on one edgecache worker.

Starts a small origin serving N objects of SIZE bytes, an edgecache (release build) with a
disk store, warms every object, then measures with wrk for each mode:
  disk    memory admission scale 1 KiB, so objects of 256 KiB and up never enter memory: every
          hit is read from the store file (page cache) by the I/O pool (X-Cache-Status hit-local)
  memory  admission "all": every hit is answered from memory (hit-front)
and prints requests/s and edgecache CPU microseconds per request (utime+stime from /proc).
The store file lives in the page cache here (a working set smaller than RAM), so this measures
the disk tier's CPU path, not the device. Side by side with ATS: disk_vs_ats.py.

  bench/macro/disk_hits.py --edgecache build/release/src/server/edgecache [--size 262144]
                           [--objects 200] [--seconds 5] [--connections 16]
"""

import argparse
import http.server
import os
import re
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_origin(size):
    body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Cache-Control", "public, max-age=86400")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_mode(args, mode, origin_port, workdir):
    port, admin = free_port(), free_port()
    store = os.path.join(workdir, "store-%s.bin" % mode)
    working_set = args.size * args.objects
    config = """
node_name: bench
workers: 1
listeners: [{address: "127.0.0.1:%d"}]
admin: {address: "127.0.0.1:%d"}
cache:
  memory_size: %dMiB
  max_object_size: 16MiB
  memory_admission: %s
  memory_admission_scale: %s
  disk: [{path: "%s", size: %dMiB}]
services: [{name: b, hosts: ["*"], origins: [{address: "127.0.0.1:%d"}]}]
""" % (port, admin, max(64, 3 * working_set >> 20), "all" if mode == "memory" else "exponential",
       "1MiB" if mode == "memory" else "1KiB", store, max(64, 4 * working_set >> 20), origin_port)
    path = os.path.join(workdir, "edgecache-%s.yaml" % mode)
    with open(path, "w") as f:
        f.write(config)
    proc = subprocess.Popen([args.edgecache, "--config", path], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/healthz" % admin, timeout=1).read()
                break
            except OSError:
                time.sleep(0.05)
        statuses = {}
        for rounds in range(2):
            for i in range(args.objects):
                with urllib.request.urlopen("http://127.0.0.1:%d/obj/%d" % (port, i)) as resp:
                    resp.read()
                    status = resp.headers.get("X-Cache-Status")
                    statuses[status] = statuses.get(status, 0) + 1
            time.sleep(0.3)  # the disk writer publishes within ~10 ms
        script = os.path.join(workdir, "cycle.lua")
        with open(script, "w") as f:
            f.write('local n = 0\nrequest = function()\n  n = n + 1\n'
                    '  return wrk.format("GET", "/obj/" .. (n %% %d))\nend\n' % args.objects)
        cpu_before = cpu_seconds(proc.pid)
        out = subprocess.run(["wrk", "-t1", "-c%d" % args.connections, "-d%ds" % args.seconds,
                              "-s", script, "http://127.0.0.1:%d/" % port],
                             capture_output=True, text=True, timeout=args.seconds + 30).stdout
        cpu = cpu_seconds(proc.pid) - cpu_before
        requests = int(re.search(r"(\d+) requests in", out).group(1))
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        metrics = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % admin).read().decode()
        tiers = dict(re.findall(r'edgecache_tier_hits_total\{tier="(\w+)"\} ([\d.e+]+)', metrics))
        return rps, cpu * 1e6 / max(requests, 1), tiers, statuses
    finally:
        proc.terminate()
        proc.wait(30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edgecache", required=True)
    parser.add_argument("--size", type=int, default=256 * 1024)
    parser.add_argument("--objects", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    origin = start_origin(args.size)
    with tempfile.TemporaryDirectory(prefix="ec-disk-bench-") as workdir:
        print("objects: %d x %d bytes, wrk -t1 -c%d -d%ds, one worker" % (
            args.objects, args.size, args.connections, args.seconds))
        for mode in ("disk", "memory"):
            rps, us, tiers, statuses = run_mode(args, mode, origin.server_address[1], workdir)
            print("%-6s %9.0f req/s  %7.1f us CPU/request  tier hits %s  warm-up %s" % (
                mode, rps, us, tiers, statuses))
    origin.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())

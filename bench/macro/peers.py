"""Configurations of the origin and of every proxy the peer benchmark compares.

Each peer is set up as a one-worker caching reverse proxy in front of the same nginx origin, in a
private directory, with the settings bench/macro/README.md explains (most come from
/work/shared/reference/peer-benchmarks.md). A Peer only knows how to write its files and what to
run; pinning, timing and clean-up belong to the runner.
"""

import os
import shutil
import subprocess
from dataclasses import dataclass, field

KIB = 1024
# (label, path, size): the hit workloads the issue asks for.
OBJECTS = [
    ("1KiB", "/obj/1k.bin", 1 * KIB),
    ("16KiB", "/obj/16k.bin", 16 * KIB),
    ("256KiB", "/obj/256k.bin", 256 * KIB),
    ("4MiB", "/obj/4m.bin", 4 * KIB * KIB),
]
MISS_BODY = 1 * KIB
STATUS_PATH = "/__origin_status"
CACHE_CONTROL = "public, max-age=3600"


@dataclass
class Peer:
    name: str
    argv: list
    env: dict = field(default_factory=dict)
    note: str = ""


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (out.stdout + out.stderr).strip().splitlines()
    return text[0].strip() if text else "unknown"


# --- origin ----------------------------------------------------------------------------------


def originSetup(root, port):
    """nginx serving the fixed objects and any /miss/* path (1 KiB), counting requests.

    stub_status counts every request the origin handles, so a delta of 1 (our own status read)
    across a run proves that the proxy answered everything from its cache.
    """
    www = os.path.join(root, "www")
    os.makedirs(os.path.join(www, "obj"), exist_ok=True)
    for _, path, size in OBJECTS:
        # Deterministic, non-repeating-enough content so no layer can shortcut it.
        block = bytes((i * 131 + size) & 0xFF for i in range(4096))
        with open(os.path.join(www, path.lstrip("/")), "wb") as f:
            f.write((block * (size // len(block) + 1))[:size])
    with open(os.path.join(www, "miss.bin"), "wb") as f:
        f.write(b"m" * MISS_BODY)
    _write(os.path.join(root, "nginx.conf"), f"""
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
worker_rlimit_nofile 16384;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  client_body_temp_path {root}/tmp_body;
  proxy_temp_path {root}/tmp_proxy;
  fastcgi_temp_path {root}/tmp_fcgi;
  uwsgi_temp_path {root}/tmp_uwsgi;
  scgi_temp_path {root}/tmp_scgi;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    root {www};
    add_header Cache-Control "{CACHE_CONTROL}" always;
    location = {STATUS_PATH} {{ stub_status; }}
    location /miss/ {{ try_files /miss.bin =404; }}
    location /obj/ {{ }}
  }}
}}
""")
    return ["nginx", "-e", f"{root}/error.log", "-p", root, "-c", f"{root}/nginx.conf"]


# --- peers -----------------------------------------------------------------------------------


def varnishPeer(root, port, origin):
    vcl = os.path.join(root, "bench.vcl")
    # The builtin VCL already caches GET/HEAD without cookies or authorization.
    _write(vcl, f"""vcl 4.1;
backend origin {{
  .host = "127.0.0.1";
  .port = "{origin}";
}}
""")
    workdir = os.path.join(root, "varnish")
    os.makedirs(workdir, exist_ok=True)
    argv = ["varnishd", "-F", "-j", "none", "-n", workdir, "-a", f"127.0.0.1:{port}",
            "-T", "127.0.0.1:0", "-f", vcl, "-s", "malloc,1G"]
    return Peer("varnish", argv, note=_version(["varnishd", "-V"]))


def trafficServerPeer(root, port, origin):
    etc, cache, run, log, var = (os.path.join(root, d)
                                 for d in ("etc", "cache", "run", "log", "var"))
    for d in (cache, run, log, var):
        os.makedirs(d, exist_ok=True)
    # Start from the packaged files (body_factory, ip_allow, logging...) and override ours.
    shutil.copytree("/etc/trafficserver", etc, dirs_exist_ok=True)
    _write(os.path.join(root, "runroot.yaml"), f"""prefix: {root}
exec_prefix: /usr
bindir: /usr/bin
sbindir: /usr/sbin
sysconfdir: {etc}
datadir: {cache}
includedir: /usr/include
libdir: /usr/lib/trafficserver
libexecdir: /usr/lib/trafficserver/modules
localstatedir: {var}
runtimedir: {run}
logdir: {log}
cachedir: {cache}
""")
    _write(os.path.join(etc, "records.config"), f"""
CONFIG proxy.config.http.server_ports STRING {port}
CONFIG proxy.config.admin.user_id STRING #-1
CONFIG proxy.config.exec_thread.autoconfig INT 0
CONFIG proxy.config.exec_thread.limit INT 1
CONFIG proxy.config.exec_thread.affinity INT 4
CONFIG proxy.config.accept_threads INT 0
CONFIG proxy.config.task_threads INT 1
CONFIG proxy.config.cache.threads_per_disk INT 2
CONFIG proxy.config.cache.ram_cache.size INT 1073741824
CONFIG proxy.config.cache.ram_cache_cutoff INT 8388608
CONFIG proxy.config.http.cache.http INT 1
CONFIG proxy.config.http.wait_for_cache INT 1
CONFIG proxy.config.http.cache.required_headers INT 2
CONFIG proxy.config.http.insert_response_via_str INT 0
CONFIG proxy.config.http.keep_alive_no_activity_timeout_in INT 120
CONFIG proxy.config.http.keep_alive_no_activity_timeout_out INT 120
CONFIG proxy.config.net.connections_throttle INT 8000
CONFIG proxy.config.url_remap.remap_required INT 1
CONFIG proxy.config.reverse_proxy.enabled INT 1
CONFIG proxy.config.log.logging_enabled INT 0
CONFIG proxy.config.diags.debug.enabled INT 0
CONFIG proxy.config.body_factory.template_sets_dir STRING {etc}/body_factory
""")
    _write(os.path.join(etc, "remap.config"),
           f"map http://127.0.0.1:{port}/ http://127.0.0.1:{origin}/\n")
    # The RAM cache sits in front of a cache span; a sparse file is enough for a span.
    # It must exist beforehand: Traffic Server disables its cache rather than create it.
    with open(os.path.join(cache, "span.db"), "wb") as f:
        f.truncate(2 << 30)
    _write(os.path.join(etc, "storage.config"), f"{cache}/span.db 2G\n")
    _write(os.path.join(etc, "plugin.config"), "")
    argv = ["traffic_server", f"--run-root={root}/runroot.yaml"]
    return Peer("ats", argv, note=_version(["traffic_server", "--version"]))


def nginxPreamble(root, access_log="access_log off;"):
    """The start of an nginx peer's configuration up to inside `http {`: one worker in the
    foreground, files under root, keep-alive without limits, the 64 MiB-key / 8 GiB cache.
    Shared by the plain (here) and the TLS (tls_peers.py) peer runs."""
    return f"""
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
worker_rlimit_nofile 16384;
events {{ worker_connections 8192; }}
http {{
  {access_log}
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_body_temp_path {root}/tmp_body;
  proxy_temp_path {root}/tmp_proxy;
  fastcgi_temp_path {root}/tmp_fcgi;
  uwsgi_temp_path {root}/tmp_uwsgi;
  scgi_temp_path {root}/tmp_scgi;
  proxy_cache_path {root}/cache levels=1:2 keys_zone=bench:64m max_size=8g inactive=2h
                   use_temp_path=off;
"""


def nginxPeer(root, port, origin):
    _write(os.path.join(root, "nginx.conf"), nginxPreamble(root) + f"""  upstream origin {{
    server 127.0.0.1:{origin};
    keepalive 128;
  }}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache bench;
    }}
  }}
}}
""")
    argv = ["nginx", "-e", f"{root}/error.log", "-p", root, "-c", f"{root}/nginx.conf"]
    return Peer("nginx", argv, note=_version(["nginx", "-v"]))


def haproxyPeer(root, port, origin):
    cfg = os.path.join(root, "haproxy.cfg")
    # total-max-size is in MB; max-object-size (bytes) must stay at most half of it.
    _write(cfg, f"""global
  nbthread 1
  maxconn 8000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  http-reuse always
cache bench
  total-max-size 1024
  max-object-size 8388608
  max-age 3600
frontend fe
  bind 127.0.0.1:{port}
  default_backend origin
backend origin
  http-request cache-use bench
  http-response cache-store bench
  server o1 127.0.0.1:{origin}
""")
    argv = ["haproxy", "-db", "-f", cfg]
    return Peer("haproxy", argv, note=_version(["haproxy", "-v"]))


def edgecachePeer(root, port, origin, binary):
    # No access log: no peer here logs requests either (nginx has access_log off; HAProxy and
    # Varnish log nothing without a log target / varnishncsa). Logging costs edgecache about
    # 1 us per request on one core (docs/performance.md).
    _write(os.path.join(root, "edgecache.yaml"), "access_log:\n  enabled: false\n")
    argv = [binary, "--config", os.path.join(root, "edgecache.yaml"),
            "--listen", f"127.0.0.1:{port}", "--origin", f"127.0.0.1:{origin}",
            "--workers", "1", "--memory", "2GiB", "--name", "bench"]
    return Peer("edgecache", argv, note=_version([binary, "--version"]))


def floorPeer(root, port, origin):
    """Not a proxy: bench/macro/floor.c, the least work an HTTP/1.1 server can do per request on
    this kernel (one recv, one send, prebuilt answers). Shown beside the peers so a ratio can be
    read against what no proxy can go below; never the best or leanest peer (report.ratios)."""
    del origin  # it answers from memory
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "floor.c")
    binary = os.path.join(root, "floor")
    built = subprocess.run(["cc", "-O2", "-o", binary, source], capture_output=True, text=True)
    if built.returncode != 0:
        return Peer("floor", ["floor-not-built"], note=built.stderr.strip()[:200])
    return Peer("floor", [binary, str(port)], note="floor: bare epoll loop, not a proxy")


PEERS = {
    "varnish": varnishPeer,
    "ats": trafficServerPeer,
    "nginx": nginxPeer,
    "haproxy": haproxyPeer,
    "floor": floorPeer,
}

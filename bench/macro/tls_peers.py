"""TLS configurations of the peers for the TLS / HTTP/2 benchmark (bench/macro/tls_run).

Every server terminates TLS 1.3 with the same ECDSA P-256 certificate (made here with the openssl
CLI), offers ALPN h2 and http/1.1, caches in front of the same plain-HTTP origin as the plain
benchmark (peers.originSetup), and has session resumption turned off: no session cache, no
tickets. Each peer also says how to read its own handshake counters, so the runner can prove that
no session was resumed. Shared settings (one worker, cache sizes, why) are those of peers.py and
bench/macro/README.md.
"""

import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
from dataclasses import dataclass, field

import peers
import procs

SERVER_NAME = "bench.test"


@dataclass
class TlsPeer:
    name: str
    argv: list
    note: str = ""
    # () -> (handshakes, resumed) from the server's own counters; None when unreadable.
    counters: object = None
    # Seconds the counters may lag behind (nginx flushes its log every second, Traffic Server
    # aggregates its stats periodically): waited before each read.
    settle: float = 0.0
    extra: dict = field(default_factory=dict)


def makeCertificate(root):
    """An ECDSA P-256 self-signed certificate for bench.test: (cert, key, combined pem)."""
    cert, key, both = (os.path.join(root, n) for n in ("cert.pem", "key.pem", "both.pem"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", f"/CN={SERVER_NAME}",
                    "-addext", f"subjectAltName=DNS:{SERVER_NAME}"],
                   check=True, capture_output=True, timeout=30)
    with open(both, "w") as out:
        for path in (cert, key):
            with open(path) as f:
                out.write(f.read())
    os.chmod(key, 0o644)  # nginx workers and ATS read it after dropping root
    os.chmod(both, 0o644)
    return cert, key, both


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _httpGet(port, path, tls=False):
    """(status, body text) of one GET, over TLS without verifying the certificate if `tls`."""
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=ctx)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


# --- nginx -----------------------------------------------------------------------------------


def nginxPeer(root, port, origin, cert, key, both):
    # nginx 1.22 has no TLS counters; a buffered access log of $ssl_session_reused ("r" or ".")
    # is its own record of every handshake. It costs nginx a little CPU per connection, which
    # only makes its figures conservative (the log write is ~1 us next to a ~400 us handshake).
    hslog = os.path.join(root, "tls.log")
    access = ("log_format tls '$ssl_session_reused $ssl_protocol';\n"
              f"  access_log {hslog} tls buffer=256k flush=1s;")
    _write(os.path.join(root, "nginx.conf"), peers.nginxPreamble(root, access) + f"""  ssl_certificate {cert};
  ssl_certificate_key {key};
  ssl_protocols TLSv1.3;
  ssl_session_cache off;
  ssl_session_tickets off;
  http2_max_concurrent_streams 100;
  upstream origin {{
    server 127.0.0.1:{origin};
    keepalive 128;
  }}
  server {{
    listen 127.0.0.1:{port} ssl http2 backlog=4096;
    location / {{
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache bench;
    }}
  }}
}}
""")

    def counters():
        # The log is flushed every second and at exit; read after the pass settled (runner).
        try:
            with open(hslog) as f:
                marks = [line.split()[0] for line in f if line.strip()]
        except OSError:
            return None
        return len(marks), sum(1 for m in marks if m == "r")

    argv = ["nginx", "-e", f"{root}/error.log", "-p", root, "-c", f"{root}/nginx.conf"]
    return TlsPeer("nginx", argv, note=peers._version(["nginx", "-v"]), counters=counters,
                   settle=1.3,
                   extra={"counter_source": "access log of $ssl_session_reused (one line per request)"})


# --- HAProxy ---------------------------------------------------------------------------------


def haproxyPeer(root, port, origin, cert, key, both):
    sock = os.path.join(root, "stats.sock")
    _write(os.path.join(root, "haproxy.cfg"), f"""global
  nbthread 1
  maxconn 8000
  stats socket {sock} level admin
  tune.ssl.cachesize 0
  ssl-default-bind-options ssl-min-ver TLSv1.3 no-tls-tickets
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
  bind 127.0.0.1:{port} ssl crt {both} alpn h2,http/1.1
  default_backend origin
backend origin
  http-request cache-use bench
  http-response cache-store bench
  server o1 127.0.0.1:{origin}
""")

    def query(command):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(sock)
            s.sendall(command.encode() + b"\n")
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks).decode(errors="replace")
        except OSError:
            return None
        finally:
            s.close()

    def counters():
        # `show stat` carries the SSL module's per-frontend counters: ssl_sess (new sessions,
        # i.e. full handshakes) and ssl_reused_sess (resumed ones).
        text = query("show stat")
        if not text:
            return None
        lines = text.splitlines()
        header = lines[0].lstrip("# ").split(",")
        if "ssl_sess" not in header or "ssl_reused_sess" not in header:
            return None
        for line in lines[1:]:
            cols = line.split(",")
            if len(cols) >= len(header) and cols[0] == "fe" and cols[1] == "FRONTEND":
                sess = int(cols[header.index("ssl_sess")] or 0)
                reused = int(cols[header.index("ssl_reused_sess")] or 0)
                return sess + reused, reused
        return None

    argv = ["haproxy", "-db", "-f", os.path.join(root, "haproxy.cfg")]
    return TlsPeer("haproxy", argv, note=peers._version(["haproxy", "-v"]), counters=counters,
                   extra={"counter_source": "show stat: ssl_sess, ssl_reused_sess"})


# --- Apache Traffic Server -------------------------------------------------------------------


def trafficServerPeer(root, port, origin, cert, key, both):
    base = peers.trafficServerPeer(root, port, origin)  # runroot, records, span: as plain
    etc = os.path.join(root, "etc")
    with open(os.path.join(etc, "records.config"), "a") as f:
        f.write(f"""
CONFIG proxy.config.http.server_ports STRING {port}:ssl
CONFIG proxy.config.ssl.server.cert.path STRING {os.path.dirname(cert)}
CONFIG proxy.config.ssl.server.private_key.path STRING {os.path.dirname(key)}
CONFIG proxy.config.ssl.server.version.min INT 4
CONFIG proxy.config.ssl.TLSv1_3.enabled INT 1
CONFIG proxy.config.ssl.session_cache INT 0
CONFIG proxy.config.ssl.server.session_ticket.enable INT 0
CONFIG proxy.config.ssl.server.session_ticket.number INT 0
CONFIG proxy.config.http2.max_concurrent_streams_in INT 100
""")
    _write(os.path.join(etc, "ssl_multicert.config"),
           f"dest_ip=* ssl_cert_name={os.path.basename(cert)} ssl_key_name={os.path.basename(key)}\n")
    _write(os.path.join(etc, "remap.config"),
           f"map https://{SERVER_NAME}/ http://127.0.0.1:{origin}/\n"
           f"map https://127.0.0.1:{port}/ http://127.0.0.1:{origin}/\n")
    # stats_over_http answers /_stats before remap: the SSL handshake counters.
    _write(os.path.join(etc, "plugin.config"), "stats_over_http.so\n")

    def counters():
        import ssl
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=ctx)
        try:
            conn.request("GET", "/_stats")
            stats = json.loads(conn.getresponse().read())["global"]
        except (OSError, http.client.HTTPException, ValueError, KeyError):
            return None
        finally:
            conn.close()
        # Our own /_stats connection is one more full handshake; the runner subtracts reads.
        full = int(stats.get("proxy.process.ssl.total_success_handshake_count_in", 0))
        resumed = (int(stats.get("proxy.process.ssl.ssl_session_cache_hit", 0)) +
                   int(stats.get("proxy.process.ssl.total_tickets_verified", 0)))
        return full, resumed

    return TlsPeer("ats", base.argv, note=base.note, counters=counters, settle=2.5,
                   extra={"counter_source": "stats_over_http: ssl.total_success_handshake_count_in,"
                                            " ssl_session_cache_hit + total_tickets_verified"})


# --- edgecache -------------------------------------------------------------------------------


def edgecachePeer(root, port, origin, cert, key, both, binary):
    admin = procs.freePort()
    _write(os.path.join(root, "edgecache.yaml"), f"""access_log:
  enabled: false
listeners:
  - address: 127.0.0.1:{port}
    tls:
      certificates:
        - {{cert: {cert}, key: {key}}}
      min_version: TLSv1.3
      session_cache_size: 0
      session_tickets: false
""")

    def counters():
        got = _httpGet(admin, "/metrics")
        if got is None or got[0] != 200:
            return None
        total = resumed = 0
        for m in re.finditer(r'^edgecache_tls_handshakes_total\{([^}]*)\}\s+([\d.e+]+)$',
                             got[1], re.M):
            n = int(float(m.group(2)))
            total += n
            if 'session="reused"' in m.group(1):
                resumed += n
        return total, resumed

    argv = [binary, "--config", os.path.join(root, "edgecache.yaml"),
            "--origin", f"127.0.0.1:{origin}", "--admin", f"127.0.0.1:{admin}",
            "--workers", "1", "--memory", "2GiB", "--name", "bench"]
    return TlsPeer("edgecache", argv, note=peers._version([binary, "--version"]),
                   counters=counters,
                   extra={"counter_source": "/metrics: edgecache_tls_handshakes_total{session}"})


# --- the floor --------------------------------------------------------------------------------


def floorPeer(root, port, origin, cert, key, both):
    """Not a proxy: bench/macro/tls_floor.c, the least work a TLS 1.3 + HTTP/1.1 server can do per
    request with OpenSSL (prebuilt answers, one SSL_write each). Shown beside the peers, never
    the best or leanest peer: in the h1 and handshake workloads its req/s is the ceiling that
    h2load's own core allows any server here. HTTP/1.1 only, so it sits out the h2 workload."""
    del origin, both  # it answers from memory
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tls_floor.c")
    binary = os.path.join(root, "tls_floor")
    built = subprocess.run(["cc", "-O2", "-o", binary, source, "-lssl", "-lcrypto"],
                           capture_output=True, text=True)
    if built.returncode != 0:
        return TlsPeer("floor", ["tls-floor-not-built"], note=built.stderr.strip()[:200])

    def counters():
        got = _httpGet(port, "/floor-counters", tls=True)
        if got is None or got[0] != 200:
            return None
        handshakes, resumed = (int(x) for x in got[1].split())
        return handshakes, resumed

    return TlsPeer("floor", [binary, str(port), cert, key],
                   note="floor: bare OpenSSL epoll loop, not a proxy", counters=counters,
                   extra={"counter_source": "GET /floor-counters",
                          "workloads": ["handshake", "h1"]})


PEERS = {
    "nginx": nginxPeer,
    "haproxy": haproxyPeer,
    "ats": trafficServerPeer,
    "floor": floorPeer,
}


def available(name):
    return shutil.which({"nginx": "nginx", "haproxy": "haproxy", "ats": "traffic_server",
                         "floor": "cc"}[name])

"""Origin: a scriptable, threaded HTTP/1.1 origin on 127.0.0.1:0 that records every request
that reaches it, so a test can assert that something did NOT reach the origin.

Script a path with a Reply (or a list of Replies served in turn, the last repeating, or a
callable taking the RecordedRequest). A Reply controls status, headers, body, framing
("length", "chunked", "close"), delays before the headers and between chunks, a gate that
pauses the body mid-way until the test releases it, and resets."""

import socket
import struct
import threading
import time

from .clock import TestClock
from .wire import PeerClosed, SocketReader, parse_head, read_chunked


class RecordedRequest:
    def __init__(self, method, target, version, headers, body):
        self.method = method
        self.target = target
        self.path = target.split("?", 1)[0]
        self.version = version
        self.headers = headers
        self.body = body
        self.received_at = time.monotonic()

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def __repr__(self):
        return "RecordedRequest(%s %s, %r, %d body bytes)" % (
            self.method, self.target, self.headers.items, len(self.body))


class Reply:
    def __init__(self, status=200, headers=None, body=b"", framing="length", chunk_size=None,
                 delay_before_headers=0.0, delay_between_chunks=0.0, gate=None,
                 gate_after=None, reset_before_headers=False, reset_after=None, date=True,
                 reason=None, raw=None):
        self.status = status
        # dict or list of pairs; values may use {now}, {now-N}, {now+N}
        self.headers = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        self.body = body.encode() if isinstance(body, str) else body
        self.framing = framing
        self.chunk_size = chunk_size
        self.delay_before_headers = delay_before_headers
        self.delay_between_chunks = delay_between_chunks
        self.gate = gate              # threading.Event: body pauses at gate_after bytes until set
        self.gate_after = gate_after
        self.reset_before_headers = reset_before_headers
        self.reset_after = reset_after  # send this many body bytes, then RST
        self.date = date
        self.reason = reason
        self.raw = raw  # bytes sent verbatim (malformed upstream responses), then close


DEFAULT_REPLY = Reply(200, {"Content-Type": "text/plain"}, b"origin default body\n")


def _reason(status):
    return {200: "OK", 204: "No Content", 206: "Partial Content", 301: "Moved Permanently",
            302: "Found", 303: "See Other", 304: "Not Modified", 404: "Not Found",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"
            }.get(status, "Status")


class Origin:
    def __init__(self, clock=None, tls_context=None):
        """tls_context: an ssl.SSLContext in the server role; the origin then speaks HTTPS and
        counts handshakes (tls_handshakes, tls_resumed) and failed ones (tls_failures)."""
        self.clock = clock or TestClock()
        self.tls_context = tls_context
        self.tls_handshakes = 0
        self.tls_resumed = 0
        self.tls_failures = 0
        self.tls_versions = []
        self.tls_server_names = []
        self._tls_local = threading.local()  # the SNI name seen by this thread's handshake
        if tls_context is not None:
            tls_context.sni_callback = lambda _s, name, _c: setattr(self._tls_local, "sni", name)
        self.requests = []
        self.heads_seen = 0  # request heads read, counted before any body arrives
        self.connections = 0
        self._scripts = {}
        self._lock = threading.Lock()
        self._threads = []
        self._socks = []
        self._stopping = False
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(256)
        self.port = self.listener.getsockname()[1]
        self.address = "127.0.0.1:%d" % self.port
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._accept_thread.start()

    # --- scripting -------------------------------------------------------------------------
    def script(self, path, reply):
        """`path` matches the request target exactly, or the path without query if no exact
        script exists. `reply` is a Reply, a list of Replies, or a callable(request)."""
        with self._lock:
            self._scripts[path] = list(reply) if isinstance(reply, (list, tuple)) else reply

    def _reply_for(self, request):
        with self._lock:
            script = self._scripts.get(request.target, self._scripts.get(request.path))
            if script is None:
                return DEFAULT_REPLY
            if isinstance(script, list):
                return script.pop(0) if len(script) > 1 else script[0]
        return script(request) if callable(script) else script

    # --- inspection ------------------------------------------------------------------------
    def requests_for(self, path):
        with self._lock:
            return [r for r in self.requests if r.path == path or r.target == path]

    def requests_received_before(self, moment):
        """How many requests arrived before `moment` (time.monotonic())."""
        with self._lock:
            return len([r for r in self.requests if getattr(r, "received_at", 0) < moment])

    def replies_sent_before(self, moment):
        """How many requests the origin had fully answered before `moment`."""
        with self._lock:
            return len([r for r in self.requests if getattr(r, "replied_at", moment) < moment])

    def answers_started_before(self, moment):
        """How many requests the origin had begun to answer before `moment`."""
        with self._lock:
            return len([r for r in self.requests if getattr(r, "answering_at", moment) < moment])

    def request_count(self, path=None):
        with self._lock:
            return len(self.requests) if path is None else len(
                [r for r in self.requests if r.path == path or r.target == path])

    def reset_log(self):
        with self._lock:
            self.requests.clear()
            self.heads_seen = 0

    def close(self):
        self._stopping = True
        try:
            self.listener.close()
        except OSError:
            pass
        with self._lock:
            socks = list(self._socks)
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # --- serving ---------------------------------------------------------------------------
    def _accept_loop(self):
        while not self._stopping:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
                self._socks.append(sock)
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            thread.start()

    def _serve(self, sock):
        sock.settimeout(60)
        if self.tls_context is not None:
            self._tls_local.sni = None
            try:
                plain = sock
                sock = self.tls_context.wrap_socket(plain, server_side=True)
            except (OSError, ValueError):
                with self._lock:
                    self.tls_failures += 1
                    if plain in self._socks:
                        self._socks.remove(plain)
                plain.close()
                return
            with self._lock:
                self.tls_handshakes += 1
                self.tls_resumed += 1 if sock.session_reused else 0
                self.tls_versions.append(sock.version())
                self.tls_server_names.append(self._tls_local.sni)
                self._socks.remove(plain)
                self._socks.append(sock)
        reader = SocketReader(sock)
        try:
            while not self._stopping:
                request = self._read_request(reader)
                request.received_at = time.monotonic()
                with self._lock:
                    self.requests.append(request)
                keep_open = self._respond(sock, request, self._reply_for(request))
                request.replied_at = time.monotonic()
                if not keep_open:
                    break
                if (request.header("Connection") or "").lower() == "close":
                    break
        except (PeerClosed, OSError, ValueError):
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass
            with self._lock:
                if sock in self._socks:
                    self._socks.remove(sock)

    def _read_request(self, reader):
        raw = reader.read_until(b"\r\n\r\n")
        start, headers = parse_head(raw)
        with self._lock:
            self.heads_seen += 1
        parts = start.split(" ")
        method, target, version = (parts + ["", "", ""])[:3]
        te = (headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            body, _ = read_chunked(reader)
        elif "Content-Length" in headers:
            body = reader.read_exact(int(headers["Content-Length"]))
        else:
            body = b""
        return RecordedRequest(method, target, version, headers, body)

    def _respond(self, sock, request, reply):
        """Sends `reply`; returns False when the connection must not be reused."""
        if reply.delay_before_headers:
            time.sleep(reply.delay_before_headers)
        request.answering_at = time.monotonic()  # the origin starts its answer now
        if reply.reset_before_headers:
            _reset(sock)
            return False
        if reply.raw is not None:
            sock.sendall(reply.raw)
            time.sleep(0.05)
            sock.shutdown(socket.SHUT_WR)
            return False
        head = "HTTP/1.1 %d %s\r\n" % (reply.status, reply.reason or _reason(reply.status))
        names = {k.lower() for k, _ in reply.headers}
        if reply.date and "date" not in names:
            head += "Date: %s\r\n" % self.clock.http_date()
        for name, value in reply.headers:
            head += "%s: %s\r\n" % (name, self.clock.expand(str(value)))
        no_body = request.method == "HEAD" or reply.status in (204, 304) or reply.status < 200
        if reply.framing == "chunked":
            head += "Transfer-Encoding: chunked\r\n"
        elif reply.framing == "length" and "content-length" not in names and reply.status not in (204, 304):
            head += "Content-Length: %d\r\n" % len(reply.body)
        elif reply.framing == "close":
            head += "Connection: close\r\n"
        sock.sendall(head.encode("latin-1") + b"\r\n")
        if no_body:
            return reply.framing != "close"
        body = reply.body
        step = reply.chunk_size or max(len(body), 1)
        sent = 0
        gated = reply.gate is None or reply.gate_after is None
        while sent < len(body) or (sent == 0 and not body):
            piece = body[sent:sent + step]
            if not gated and sent <= reply.gate_after < sent + max(len(piece), 1):
                gated = True
                first = piece[: reply.gate_after - sent]
                self._send_piece(sock, reply, first)
                sent += len(first)
                reply.gate.wait(60)
                continue
            if reply.reset_after is not None and sent + len(piece) > reply.reset_after:
                self._send_piece(sock, reply, piece[: reply.reset_after - sent])
                time.sleep(0.05)
                _reset(sock)
                return False
            self._send_piece(sock, reply, piece)
            sent += len(piece)
            if not body:
                break
            if reply.delay_between_chunks and sent < len(body):
                time.sleep(reply.delay_between_chunks)
        if reply.framing == "chunked":
            sock.sendall(b"0\r\n\r\n")
        if reply.framing == "close":
            sock.shutdown(socket.SHUT_WR)
            return False
        return True

    @staticmethod
    def _send_piece(sock, reply, piece):
        if not piece:
            return
        if reply.framing == "chunked":
            sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
        else:
            sock.sendall(piece)


def _reset(sock):
    """Closes with RST instead of FIN (SO_LINGER with a zero timeout)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()

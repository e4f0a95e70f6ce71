"""Client: raw-socket HTTP/1.1 for tests. Sends exactly the bytes it is given (malformed ones
included), reads whole responses whatever their framing, and tells whether the server closed
the connection."""

import socket
import time

from .wire import Headers, PeerClosed, SocketReader, connect, parse_head, read_chunked


class Response:
    def __init__(self, version, status, reason, headers, body, trailers=None):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.trailers = trailers or Headers()

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def __repr__(self):
        return "Response(%d %s, %r, %d body bytes)" % (
            self.status, self.reason, self.headers.items, len(self.body))


def request_bytes(method, path, headers=None, body=b"", host="example.test"):
    """A well-formed request; `headers` is a dict or list of pairs (Host added if missing)."""
    items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    if not any(k.lower() == "host" for k, _ in items):
        items.insert(0, ("Host", host))
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in items):
        items.append(("Content-Length", str(len(body))))
    head = "%s %s HTTP/1.1\r\n" % (method, path)
    head += "".join("%s: %s\r\n" % (k, v) for k, v in items)
    return head.encode("latin-1") + b"\r\n" + (body if isinstance(body, bytes) else body.encode())


class Client:
    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.port = port
        self.timeout = timeout
        self.sock = connect(port, host, timeout)
        self.reader = SocketReader(self.sock)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def send_slowly(self, data, segment=1, delay=0.0):
        """Sends `data` in `segment`-byte writes (each its own TCP segment with NODELAY)."""
        if isinstance(data, str):
            data = data.encode("latin-1")
        for i in range(0, len(data), segment):
            self.sock.sendall(data[i:i + segment])
            if delay:
                time.sleep(delay)

    def request(self, method, path, headers=None, body=b"", host="example.test"):
        self.send(request_bytes(method, path, headers, body, host))
        return self.read_response(head_request=(method == "HEAD"))

    def get(self, path, headers=None, host="example.test"):
        return self.request("GET", path, headers, host=host)

    def read_head(self, timeout=None):
        """Reads only a status line + header section: (version, status, reason, Headers)."""
        self.sock.settimeout(timeout or self.timeout)
        while True:
            raw = self.reader.read_until(b"\r\n\r\n")
            start, headers = parse_head(raw)
            version, _, rest = start.partition(" ")
            status_text, _, reason = rest.partition(" ")
            status = int(status_text)
            if 100 <= status < 200 and status != 101:
                continue  # interim responses are skipped
            return version, status, reason, headers

    def read_response(self, head_request=False, timeout=None):
        version, status, reason, headers = self.read_head(timeout)
        body, trailers = self.read_body(status, headers, head_request)
        return Response(version, status, reason, headers, body, trailers)

    def read_body(self, status, headers, head_request=False):
        """The body that follows a head read with read_head(): (bytes, trailers or None)."""
        trailers = None
        if head_request or status in (204, 304):
            body = b""
        elif "chunked" in (headers.get("Transfer-Encoding") or "").lower():
            body, trailers = read_chunked(self.reader)
        elif "Content-Length" in headers:
            body = self.reader.read_exact(int(headers["Content-Length"]))
        else:
            body = self.reader.read_to_close()
        return body, trailers

    def read_responses(self, count, head_request=False, timeout=None):
        return [self.read_response(head_request, timeout) for _ in range(count)]

    def read_some(self, timeout=None):
        """Whatever bytes arrive next (raw); b"" if the peer closed; None on timeout."""
        self.sock.settimeout(timeout or self.timeout)
        try:
            return self.reader.read_some()
        except PeerClosed:
            return b""
        except socket.timeout:
            return None

    def read_all(self, timeout=None):
        """Every byte until the peer closes (or the timeout passes): raw bytes."""
        self.sock.settimeout(timeout or self.timeout)
        try:
            return self.reader.read_to_close()
        except socket.timeout:
            out, self.reader.buffer = self.reader.buffer, b""
            return out

    def is_closed(self, timeout=2.0):
        """True if the server closes (FIN or RST) within `timeout` with nothing more to say;
        False if the connection stays open or more bytes arrive."""
        if self.reader.buffer:
            return False
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        if data:
            self.reader.buffer += data
            return False
        return True


def fetch(port, method, path, headers=None, body=b"", host="example.test", timeout=10.0):
    """One request on a fresh connection."""
    with Client(port, timeout=timeout) as client:
        return client.request(method, path, headers, body, host)

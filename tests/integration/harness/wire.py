"""Bytes-level HTTP/1.1 reading shared by Client and Origin: a buffered socket reader, header
parsing, and body framing (Content-Length, chunked, close-delimited). Deliberately lenient
about what it reads: the tests decide what is acceptable, the harness only records."""

import socket


class PeerClosed(Exception):
    """The peer closed (or reset) before the expected bytes arrived."""


class SocketReader:
    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""
        self.closed = False

    def _fill(self):
        try:
            data = self.sock.recv(256 * 1024)
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed = True
            raise PeerClosed()
        self.buffer += data

    def read_until(self, marker, limit=1 << 20):
        while True:
            index = self.buffer.find(marker)
            if index >= 0:
                out = self.buffer[: index + len(marker)]
                self.buffer = self.buffer[index + len(marker):]
                return out
            if len(self.buffer) > limit:
                raise ValueError("no %r within %d bytes" % (marker, limit))
            self._fill()

    def read_exact(self, count):
        while len(self.buffer) < count:
            self._fill()
        out = self.buffer[:count]
        self.buffer = self.buffer[count:]
        return out

    def read_some(self):
        if not self.buffer:
            self._fill()
        out, self.buffer = self.buffer, b""
        return out

    def read_to_close(self):
        while True:
            try:
                self._fill()
            except PeerClosed:
                break
        out, self.buffer = self.buffer, b""
        return out


class Headers:
    """An ordered, case-insensitive multi-map of header fields."""

    def __init__(self, items=()):
        self.items = list(items)

    def get(self, name, default=None):
        values = self.get_all(name)
        return ", ".join(values) if values else default

    def get_all(self, name):
        lname = name.lower()
        return [v for k, v in self.items if k.lower() == lname]

    def __contains__(self, name):
        return bool(self.get_all(name))

    def __getitem__(self, name):
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __repr__(self):
        return "Headers(%r)" % (self.items,)


def parse_head(raw):
    """Splits a header section (start line + fields, ending CRLFCRLF) into (start, Headers)."""
    text = raw.decode("latin-1")
    lines = text.split("\r\n")
    start = lines[0]
    items = []
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        items.append((name.strip(), value.strip(" \t")))
    return start, Headers(items)


def read_chunked(reader):
    """Reads a chunked body; returns (body, trailers Headers)."""
    body = bytearray()  # bytes += would copy the whole body per chunk (100 MiB uploads)
    while True:
        line = reader.read_until(b"\r\n").decode("latin-1")
        size = int(line.split(";", 1)[0].strip(), 16)
        if size == 0:
            break
        body += reader.read_exact(size)
        reader.read_exact(2)
    body = bytes(body)
    trailers = []
    while True:
        line = reader.read_until(b"\r\n")
        if line == b"\r\n":
            break
        name, _, value = line.decode("latin-1").partition(":")
        trailers.append((name.strip(), value.strip()))
    return body, Headers(trailers)


def connect(port, host="127.0.0.1", timeout=10.0):
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock

"""H2Raw: a frame-level HTTP/2 client over TLS (ALPN h2) for hostile-frame tests. It sends
exactly the frames it is told (hpack for header blocks), and reads the server's frames, so a
test can flood PING or SETTINGS, leave CONTINUATION open, reset streams as fast as it opens
them, or send header lists no conforming client library would."""

import socket
import ssl
import struct
import time

import hpack

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
ENHANCE_YOUR_CALM, PROTOCOL_ERROR = 0xb, 0x1


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream & 0x7fffffff) + payload


class H2Raw:
    def __init__(self, port, context, server_name="example.test", timeout=10.0):
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        context.set_alpn_protocols(["h2"])
        self.sock = context.wrap_socket(raw, server_hostname=server_name)
        assert self.sock.selected_alpn_protocol() == "h2"
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.buffer = b""
        self.closed = False
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0))

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
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def block(self, headers):
        """An HPACK header block; `headers` is a list of (name, value) as bytes or str."""
        return self.encoder.encode([(n.encode() if isinstance(n, str) else n,
                                     v.encode() if isinstance(v, str) else v) for n, v in headers])

    def request_headers(self, authority="example.test", path="/", method="GET", extra=()):
        return [(":method", method), (":scheme", "https"), (":authority", authority),
                (":path", path)] + list(extra)

    def read_frame(self, timeout=10.0):
        """(type, flags, stream, payload), or None once the server closed."""
        deadline = time.monotonic() + timeout
        while len(self.buffer) < 9 or len(self.buffer) < 9 + int.from_bytes(self.buffer[:3], "big"):
            if self.closed:
                return None
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError, OSError):
                chunk = b""
            if not chunk:
                self.closed = True
                return None
            self.buffer += chunk
        length = int.from_bytes(self.buffer[:3], "big")
        ftype, flags = self.buffer[3], self.buffer[4]
        stream = int.from_bytes(self.buffer[5:9], "big") & 0x7fffffff
        payload = self.buffer[9:9 + length]
        self.buffer = self.buffer[9 + length:]
        return ftype, flags, stream, payload

    def goaway_code(self, timeout=10.0):
        """The error code of the server's GOAWAY (None if it closed without one)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.read_frame(deadline - time.monotonic())
            if got is None:
                return None
            ftype, _, _, payload = got
            if ftype == GOAWAY:
                return int.from_bytes(payload[4:8], "big")
        return None

    def response(self, stream, timeout=10.0):
        """(status, headers dict, body) of `stream`, or ('reset', code, b'') on RST_STREAM."""
        headers = {}
        body = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.read_frame(deadline - time.monotonic())
            if got is None:
                raise AssertionError("connection closed before stream %d ended" % stream)
            ftype, flags, sid, payload = got
            if ftype == SETTINGS and not flags & ACK:
                self.send(frame(SETTINGS, ACK, 0))
            if sid != stream:
                continue
            if ftype == RST_STREAM:
                return "reset", int.from_bytes(payload[:4], "big"), b""
            if ftype == HEADERS:
                for name, value in self.decoder.decode(payload):
                    headers[name if isinstance(name, str) else name.decode()] = \
                        value if isinstance(value, str) else value.decode()
            if ftype == DATA:
                body += payload
                if payload:
                    self.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", len(payload))) +
                              frame(WINDOW_UPDATE, 0, stream, struct.pack(">I", len(payload))))
            if flags & END_STREAM and ftype in (HEADERS, DATA):
                return int(headers.get(":status", 0)), headers, body
        raise AssertionError("stream %d did not end in time" % stream)

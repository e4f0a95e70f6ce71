# Writes the seed corpus of the htcp fuzz target: usage gen_htcp_corpus.py tests/fuzz/corpus/htcp
import struct, sys, os
def pkt(tid, url, method=b"HEAD", op=4, flags=0, auth=b"\x00\x02", version=b"HTTP/1.0", hdrs=b""):
    spec = struct.pack(">H", len(method)) + method + struct.pack(">H", len(url)) + url + struct.pack(">H", len(version)) + version + struct.pack(">H", len(hdrs)) + hdrs
    data = 8 + 2 + len(spec)
    body = struct.pack(">HBB", data, op, flags) + struct.pack(">I", tid) + b"\x00\x00" + spec
    total = 4 + data + len(auth)
    return struct.pack(">HBB", total, 0, 0) + body + auth
out = sys.argv[1]
cases = {
 "mediawiki_text": pkt(1, b"http://en.wikipedia.org/wiki/Main_Page"),
 "mediawiki_upload": pkt(0xfffffffe, b"http://upload.wikimedia.org/wikipedia/commons/a/a9/Example.jpg"),
 "query": pkt(42, b"https://en.wikipedia.org/w/index.php?title=Foo&action=history"),
 "with_headers": pkt(3, b"http://w.test/x", hdrs=b"Host: w.test\r\n"),
 "tst_opcode": pkt(4, b"http://w.test/x", op=1),
 "response": pkt(5, b"http://w.test/x", flags=0x40),
 "signed_auth": pkt(6, b"http://w.test/x", auth=b"\x00\x08abcdef"),
 "bad_auth": pkt(7, b"http://w.test/x", auth=b"\x00\x09"),
 "empty_uri": pkt(8, b""),
 "short": b"\x00\x14" + b"\x00" * 18,
}
for name, data in cases.items():
    open(os.path.join(out, name), "wb").write(data)

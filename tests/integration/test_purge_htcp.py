"""HTCP CLR purges (RFC 2756, the packet MediaWiki sends) through real UDP sockets against
the real binary: unicast, multicast on loopback (IP_MULTICAST_IF/LOOP on 127.0.0.1, no
network needed), malformed packets counted, and lost purges counted from sequential ids."""

import socket
import struct
import time

from harness import Reply, wait_for
from harness.edgecache import free_port

CACHEABLE = {"Cache-Control": "public, max-age=300", "Content-Type": "text/plain"}
GROUP = "239.128.0.112"


def clr(transaction_id, url, method=b"HEAD"):
    """The datagram CdnCacheUpdate::HTCPPurge writes (wikimedia-traffic.md §1.2)."""
    url = url.encode()
    spec = (struct.pack(">H", len(method)) + method + struct.pack(">H", len(url)) + url +
            struct.pack(">H", 8) + b"HTTP/1.0" + struct.pack(">H", 0))
    data_length = 8 + 2 + len(spec)
    return (struct.pack(">HBBHBBI", 4 + data_length + 2, 0, 0, data_length, 4, 0,
                        transaction_id) + b"\x00\x00" + spec + struct.pack(">H", 2))



def cached(node, path):
    return node.get(path).header("X-Cache-Status") == "hit-front"


def test_issue_4_htcp_unicast_purges_and_counts_loss_and_garbage(start_edgecache, origin):
    port = free_port()
    node = start_edgecache(config={"purge": {"htcp": {
        "address": "127.0.0.1:%d" % port, "sequential_sources": ["127.0.0.1/32"]}}})
    origin.script("/wiki/Foo", Reply(200, CACHEABLE, b"foo"))
    node.get("/wiki/Foo")
    assert cached(node, "/wiki/Foo")
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sender.sendto(clr(1, "http://example.test/wiki/Foo"), ("127.0.0.1", port))
        assert wait_for(lambda: node.metric("edgecache_purges_applied_total", source="htcp") == 1)
        assert not cached(node, "/wiki/Foo")
        # Ids 2 and 3 never arrive: two purges lost.
        sender.sendto(clr(4, "http://example.test/wiki/Other"), ("127.0.0.1", port))
        sender.sendto(b"\x00\x05junk", ("127.0.0.1", port))
        assert wait_for(lambda: node.metric("edgecache_purges_rejected_total", source="htcp",
                                            reason="malformed") == 1)
        assert node.metric("edgecache_htcp_lost_total") == 2
        assert node.metric("edgecache_purges_received_total", source="htcp") == 3
    finally:
        sender.close()
    assert node.healthz()[0] == 200  # garbage never hurts the node


def test_issue_4_htcp_multicast_group_on_loopback(start_edgecache, origin):
    port = free_port()
    node = start_edgecache(config={"purge": {"htcp": {
        "address": "0.0.0.0:%d" % port, "groups": [GROUP], "interface": "127.0.0.1"}}})
    origin.script("/wiki/Mc", Reply(200, CACHEABLE, b"mc"))
    node.get("/wiki/Mc")
    assert cached(node, "/wiki/Mc")
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
        sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 8)  # as WMF sent them
        # Random (non-sequential) ids, as older MediaWiki sends: no loss is counted.
        for transaction_id in (917, 12, 400000):
            sender.sendto(clr(transaction_id, "http://example.test/wiki/Mc"), (GROUP, port))
        assert wait_for(lambda: node.metric("edgecache_purges_applied_total", source="htcp") == 3)
    finally:
        sender.close()
    assert not cached(node, "/wiki/Mc")
    assert node.metric("edgecache_htcp_lost_total") == 0

"""Purging through real sockets against the real binary (issue 4, Purge): HTTP PURGE in
origin-form and absolute-form, every variant dropped, the source ACL (405), the host regex
(204 "Domain not cached here"), and a purge that arrives while the object is being fetched."""

import threading
import time

from harness import Client, Reply
from harness.client import request_bytes

CACHEABLE = {"Cache-Control": "public, max-age=300", "Content-Type": "text/plain"}


def purge(edgecache, target, host="example.test", headers=None):
    return edgecache.request("PURGE", target, headers=headers, host=host)


def test_issue_4_purge_drops_every_variant_and_answers_204(edgecache, origin):
    origin.script("/wiki/Foo", Reply(200, dict(CACHEABLE, Vary="Accept-Encoding"), b"v1"))
    for encoding in ("gzip", "br"):
        edgecache.get("/wiki/Foo", headers={"Accept-Encoding": encoding})
        assert edgecache.get("/wiki/Foo", headers={"Accept-Encoding": encoding}).header(
            "X-Cache-Status") == "hit-front"
    assert origin.request_count("/wiki/Foo") == 2

    # The path is normalised as a client request's is: %46 is "F".
    response = purge(edgecache, "/wiki/%46oo")
    assert response.status == 204
    assert response.reason == "Purged"
    assert response.header("X-Cache") is None  # no X-Cache on purge answers
    assert response.body == b""

    for encoding in ("gzip", "br"):
        assert edgecache.get("/wiki/Foo", headers={"Accept-Encoding": encoding}).header(
            "X-Cache-Status") == "miss"
    assert origin.request_count("/wiki/Foo") == 4
    assert not any(r.method == "PURGE" for r in origin.requests_for("/wiki/Foo"))
    assert edgecache.metric("edgecache_purges_received_total", source="http") == 1
    assert edgecache.metric("edgecache_purges_applied_total", source="http") == 1
    assert edgecache.metric("edgecache_purged_objects_total") == 2


def test_issue_4_absolute_form_purge_as_mediawiki_sends_it(edgecache, origin):
    origin.script("/wiki/Bar?action=raw", Reply(200, CACHEABLE, b"raw"))
    edgecache.get("/wiki/Bar?action=raw", host="en.wiki.test")
    # MediaWiki's naivePurge: absolute URL through the cache as a proxy, keep-alive, pipelined.
    with Client(edgecache.port) as client:
        extra = {"Connection": "Keep-Alive", "Proxy-Connection": "Keep-Alive",
                 "User-Agent": "MediaWiki/1.42 CdnCacheUpdate"}
        client.send(request_bytes("PURGE", "http://En.Wiki.Test/wiki/Bar?action=raw", extra,
                                  host="en.wiki.test") +
                    request_bytes("PURGE", "http://en.wiki.test/wiki/Other", extra,
                                  host="en.wiki.test"))
        first, second = client.read_responses(2)
        assert first.status == second.status == 204
    assert edgecache.get("/wiki/Bar?action=raw", host="en.wiki.test").header(
        "X-Cache-Status") == "miss"
    assert origin.request_count("/wiki/Bar?action=raw") == 2


def test_issue_4_purge_from_a_source_outside_the_acl_gets_405(start_edgecache, origin):
    node = start_edgecache(config={"purge": {"allow": ["10.0.0.0/8"]}})
    origin.script("/kept", Reply(200, CACHEABLE, b"kept"))
    node.get("/kept")
    response = purge(node, "/kept")
    assert response.status == 405
    assert node.get("/kept").header("X-Cache-Status") == "hit-front"
    assert node.metric("edgecache_purges_rejected_total", source="http", reason="forbidden") == 1
    assert node.metric("edgecache_purges_applied_total", source="http") == 0
    # A reload that lets loopback in takes effect without a restart.
    config = dict(node.config)
    config["purge"] = {"allow": ["127.0.0.1/32"]}
    node.reload(config)
    assert purge(node, "/kept").status == 204
    assert node.get("/kept").header("X-Cache-Status") == "miss"


def test_issue_4_hosts_outside_the_regex_are_not_cached_here(start_edgecache, origin):
    node = start_edgecache(config={"purge": {"host_regex": r"^(?!(upload|maps)\.wiki\.test)"}})
    origin.script("/img.png", Reply(200, CACHEABLE, b"png"))
    node.get("/img.png", host="upload.wiki.test")
    response = purge(node, "/img.png", host="upload.wiki.test")
    assert response.status == 204
    assert response.reason == "Domain not cached here"
    assert node.get("/img.png", host="upload.wiki.test").header("X-Cache-Status") == "hit-front"
    assert node.metric("edgecache_purges_rejected_total", source="http",
                       reason="domain_not_cached") == 1
    assert purge(node, "/img.png", host="en.wiki.test").reason == "Purged"


def test_issue_4_purge_while_the_head_is_awaited_keeps_the_old_body_out(edgecache, origin):
    # The origin answers the first request slowly, with the body from before the edit.
    origin.script("/slow", [Reply(200, CACHEABLE, b"old", delay_before_headers=1.5),
                            Reply(200, CACHEABLE, b"new")])
    results = {}
    leader = threading.Thread(target=lambda: results.update(first=edgecache.get("/slow")))
    leader.start()
    deadline = time.monotonic() + 5
    while origin.request_count("/slow") < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert purge(edgecache, "/slow").status == 204  # the edit's purge, while "old" is in flight
    leader.join()
    assert results["first"].body == b"old"  # asked before the purge: may get the old body
    after = edgecache.get("/slow")
    assert after.body == b"new"
    assert origin.request_count("/slow") == 2
    assert edgecache.metric("edgecache_cache_events_total", event="purged_in_flight") == 1


def test_issue_4_purge_while_the_body_streams_keeps_the_old_body_out(edgecache, origin):
    gate = threading.Event()
    origin.script("/stream", [Reply(200, CACHEABLE, b"o" * 100000, gate=gate, gate_after=1000),
                              Reply(200, CACHEABLE, b"n" * 10)])
    with Client(edgecache.port) as client:
        client.send(request_bytes("GET", "/stream"))
        client.read_head()  # stored and published; the body is still arriving
        assert purge(edgecache, "/stream").status == 204
        # A request after the purge must not join the old fetch nor read its object.
        assert edgecache.get("/stream").body == b"n" * 10
        gate.set()
    assert edgecache.get("/stream").body == b"n" * 10
    assert origin.request_count("/stream") == 2


def test_issue_4_purge_of_a_host_without_service_is_harmless(edgecache, origin):
    response = purge(edgecache, "/x", host="nowhere.invalid")
    assert response.status == 204


def test_issue_4_purge_reaches_the_disk_tier_and_survives_a_restart(start_edgecache, origin,
                                                                   tmp_path):
    config = {"cache": {"memory_size": "32MiB", "max_object_size": "16MiB",
                        "memory_admission": "all",
                        "disk": [{"path": str(tmp_path / "store.bin"), "size": "64MiB"}]}}
    origin.script("/wiki/Disk", [Reply(200, CACHEABLE, b"old"), Reply(200, CACHEABLE, b"new")])
    origin.script("/wiki/Kept", Reply(200, CACHEABLE, b"kept"))
    node = start_edgecache(config=config)
    node.get("/wiki/Disk")
    node.get("/wiki/Kept")
    assert node.stop() == 0

    node = start_edgecache(config=config)  # both objects come from disk now
    assert node.get("/wiki/Kept").header("X-Cache-Status") == "hit-local"
    assert purge(node, "/wiki/Disk").status == 204
    assert node.stop() == 0

    node = start_edgecache(config=config)  # the purge is on disk too: never served again
    assert node.get("/wiki/Kept").header("X-Cache-Status") == "hit-local"
    response = node.get("/wiki/Disk")
    assert response.header("X-Cache-Status") == "miss"
    assert response.body == b"new"

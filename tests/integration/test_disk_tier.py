"""The disk tier through real sockets (issue 3): objects survive a clean restart and are served
without a refetch (X-Cache-Status hit-local, then hit-front once promoted); bytes corrupted in
the store file give misses, never garbage; a large object streams and range-serves from disk;
a store that cannot be opened leaves the node serving from memory and the origin, and shows in
/metrics and /healthz."""

import hashlib
import os
import random
import socket
import time

from harness import Reply
from harness.edgecache import NODE

LONG = {"Cache-Control": "public, max-age=86400", "Content-Type": "application/octet-stream"}


def payload(seed, size):
    rng = random.Random(seed)
    return bytes(rng.getrandbits(8) for _ in range(size)) if size < 65536 else \
        rng.randbytes(size)


def disk_config(tmp_path, size="64MiB", admission="all", name="store.bin"):
    return {"cache": {"memory_size": "32MiB", "max_object_size": "16MiB",
                      "memory_admission": admission,
                      "disk": [{"path": str(tmp_path / name), "size": size}]}}


def script_objects(origin, sizes):
    bodies = {}
    for i, size in enumerate(sizes):
        path = "/obj/%d" % i
        bodies[path] = payload(i, size)
        origin.script(path, Reply(200, dict(LONG, ETag='"%d"' % i), bodies[path]))
    return bodies


SIZES = [0, 1, 100, 4000, 65536, 300000, 1 << 20, (3 << 20) + 17]


def test_clean_restart_serves_every_object_without_a_refetch(start_edgecache, origin, tmp_path):
    config = disk_config(tmp_path)
    bodies = script_objects(origin, SIZES)
    node = start_edgecache(config=config)
    for path, body in bodies.items():
        response = node.get(path)
        assert response.status == 200 and response.body == body
        assert response.header("X-Cache-Status") == "miss"
    assert node.stop() == 0
    fetched = origin.request_count()

    node = start_edgecache(config=config)
    assert "disk %s: up" % (tmp_path / "store.bin") in node.healthz()[1]
    assert node.metric("edgecache_disk_objects") == len(SIZES)
    for path, body in bodies.items():
        response = node.get(path)
        assert response.status == 200, path
        assert response.body == body, path
        assert response.header("X-Cache") == "%s hit, %s miss" % (NODE, NODE)
        assert response.header("X-Cache-Status") == "hit-local"
    assert origin.request_count() == fetched  # nothing refetched
    # Promoted on the disk hit (admission "all", whole bodies): the memory tier answers next.
    small = node.get("/obj/3")
    assert small.header("X-Cache-Status") == "hit-front" and small.body == bodies["/obj/3"]
    assert node.metric("edgecache_tier_hits_total", tier="disk") >= len(SIZES)
    assert node.metric("edgecache_disk_corrupt_records_total") == 0
    assert node.metric("edgecache_disk_store_up", path=str(tmp_path / "store.bin")) == 1


def test_corrupted_store_file_gives_misses_not_garbage(start_edgecache, origin, tmp_path):
    config = disk_config(tmp_path)
    sizes = [20000 + 1000 * i for i in range(30)]
    bodies = script_objects(origin, sizes)
    node = start_edgecache(config=config)
    for path in bodies:
        assert node.get(path).status == 200
    assert node.stop() == 0
    # Scribble over the log area (the first 4 KiB is the file header).
    store = tmp_path / "store.bin"
    rng = random.Random(11)
    with open(store, "r+b") as f:
        for _ in range(400):
            f.seek(4096 + rng.randrange(sum(sizes)))
            f.write(bytes([rng.randrange(256)]))
    node = start_edgecache(config=config)
    statuses = []
    for path, body in bodies.items():
        response = node.get(path)
        assert response.status == 200
        assert response.body == body, "garbage served for %s" % path
        statuses.append(response.header("X-Cache-Status"))
    assert "miss" in statuses
    assert node.metric("edgecache_disk_corrupt_records_total") > 0
    # The refetched copies are good again.
    for path, body in bodies.items():
        assert node.get(path).body == body


def test_large_object_streams_and_range_serves_from_disk(start_edgecache, origin, tmp_path):
    config = disk_config(tmp_path, size="128MiB")
    config["cache"]["max_object_size"] = "8MiB"
    body = payload(99, 12 << 20)  # over the memory tier's max_object_size: disk only
    origin.script("/big.webm", Reply(200, dict(LONG, ETag='"big"'), body, chunk_size=1 << 20))
    node = start_edgecache(config=config)
    first = node.get("/big.webm")
    assert first.status == 200 and hashlib.sha256(first.body).digest() == hashlib.sha256(body).digest()
    assert node.stop() == 0

    node = start_edgecache(config=config)
    ranged = node.get("/big.webm", headers={"Range": "bytes=9000000-9000099"})
    assert ranged.status == 206
    assert ranged.header("Content-Range") == "bytes 9000000-9000099/%d" % len(body)
    assert ranged.body == body[9000000:9000100]
    assert ranged.header("X-Cache-Status") == "hit-local"
    whole = node.get("/big.webm")
    assert whole.status == 200 and whole.header("X-Cache-Status") == "hit-local"
    assert hashlib.sha256(whole.body).digest() == hashlib.sha256(body).digest()
    assert origin.request_count("/big.webm") == 1


def test_a_store_that_cannot_open_leaves_the_node_serving(start_edgecache, origin, tmp_path):
    missing = tmp_path / "no-such-dir" / "store.bin"
    config = {"cache": {"disk": [{"path": str(missing), "size": "64MiB"}]}}
    origin.script("/x", Reply(200, LONG, b"still served"))
    node = start_edgecache(config=config)
    status, text = node.healthz()
    assert status == 200
    assert "disk %s: down" % missing in text
    assert node.metric("edgecache_disk_store_up", path=str(missing)) == 0
    assert node.get("/x").header("X-Cache-Status") == "miss"
    second = node.get("/x")
    assert second.body == b"still served" and second.header("X-Cache-Status") == "hit-front"
    assert origin.request_count("/x") == 1


def test_exponential_admission_keeps_big_objects_on_disk_only(start_edgecache, origin, tmp_path):
    config = disk_config(tmp_path, admission="exponential")
    config["cache"]["memory_admission_scale"] = "4KiB"  # a 1 MiB object: exp(-256), never
    body = payload(5, 1 << 20)
    origin.script("/media.jpg", Reply(200, dict(LONG, ETag='"m"'), body))
    node = start_edgecache(config=config)
    assert node.get("/media.jpg").header("X-Cache-Status") == "miss"
    second = node.get("/media.jpg")
    assert second.body == body
    # Not in memory: answered from disk (or from the write still in flight, which is memory).
    assert second.header("X-Cache-Status") in ("hit-local", "hit-front")
    assert origin.request_count("/media.jpg") == 1
    assert node.metric("edgecache_memory_admission_rejects_total") >= 1


def test_a_range_deep_in_an_object_reads_only_the_fragments_it_needs(start_edgecache, origin,
                                                                     tmp_path):
    config = disk_config(tmp_path, size="128MiB")
    config["cache"]["max_object_size"] = "8MiB"  # 12 MiB: disk only, every hit reads the store
    size = 12 << 20
    body = payload(7, size)
    origin.script("/movie.mp4", Reply(200, dict(LONG, ETag='"m"'), body))
    node = start_edgecache(config=config)
    assert node.get("/movie.mp4").status == 200
    assert node.stop() == 0

    node = start_edgecache(config=config)
    path = str(tmp_path / "store.bin")
    read_before = node.metric("edgecache_disk_io_bytes_total", path=path, direction="read")
    tail = node.get("/movie.mp4", headers={"Range": "bytes=%d-" % (size - (1 << 20))})
    assert tail.status == 206 and tail.header("X-Cache-Status") == "hit-local"
    assert tail.header("Content-Range") == "bytes %d-%d/%d" % (size - (1 << 20), size - 1, size)
    assert tail.body == body[size - (1 << 20):]
    read = node.metric("edgecache_disk_io_bytes_total", path=path, direction="read") - read_before
    # The head record and the fragments holding the last MiB (1 MiB fragments): not 11 MiB more.
    assert read < (2 << 20) + 65536, read
    assert node.metric("edgecache_disk_range_reads_total", path=path) == 1

    # A range in the middle, then what a partial read cannot answer: If-Range that does not
    # match (200, the whole object), several ranges; each is looked up whole, bytes exact.
    middle = node.get("/movie.mp4", headers={"Range": "bytes=5000000-5000999"})
    assert middle.status == 206 and middle.body == body[5000000:5001000]
    stale_if_range = node.get("/movie.mp4", headers={"Range": "bytes=5000000-5000999",
                                                     "If-Range": '"other"'})
    assert stale_if_range.status == 200
    assert hashlib.sha256(stale_if_range.body).digest() == hashlib.sha256(body).digest()
    # (Several ranges of an object still streaming in from disk get the whole object, 200.)
    multi = node.get("/movie.mp4", headers={"Range": "bytes=0-9,%d-%d" % (size - 10, size - 1)})
    assert multi.status in (200, 206)
    if multi.status == 200:
        assert hashlib.sha256(multi.body).digest() == hashlib.sha256(body).digest()
    else:
        assert body[:10] in multi.body and body[size - 10:] in multi.body
    conditional = node.get("/movie.mp4", headers={"Range": "bytes=%d-" % (size - 100),
                                                  "If-None-Match": '"m"'})
    assert conditional.status == 304
    assert origin.request_count("/movie.mp4") == 1
    assert node.metric("edgecache_disk_corrupt_records_total") == 0


def test_zero_copy_disk_hits_serve_exact_bytes_and_can_be_switched_off(start_edgecache, origin,
                                                                      tmp_path):
    # Zero copy needs a store of 128 MiB or more (2 MiB-aligned segments).
    config = disk_config(tmp_path, size="128MiB", admission="exponential")
    config["cache"]["memory_admission_scale"] = "1KiB"  # nothing this big enters memory
    bodies = {"/zc/%d" % i: payload(40 + i, size)
              for i, size in enumerate([70000, 300000, (2 << 20) + 5])}
    for path, body in bodies.items():
        origin.script(path, Reply(200, dict(LONG, ETag='"z"'), body))
    node = start_edgecache(config=config)
    for path in bodies:
        assert node.get(path).status == 200
    assert node.stop() == 0

    node = start_edgecache(config=config)
    store = str(tmp_path / "store.bin")
    for _ in range(2):
        for path, body in bodies.items():
            reply = node.get(path)
            assert reply.header("X-Cache-Status") == "hit-local"
            assert hashlib.sha256(reply.body).digest() == hashlib.sha256(body).digest()
    # 70000 + 300000 bytes: one fragment each; 2 MiB + 5: three fragments of 1 MiB - 40 bytes,
    # the last of 85 bytes (under 64 KiB: copied). So 4 mapped per round.
    assert node.metric("edgecache_disk_mapped_reads_total", path=store) == 2 * 4
    assert node.stop() == 0

    config["cache"]["disk_zero_copy"] = False
    node = start_edgecache(config=config)
    for path, body in bodies.items():
        assert node.get(path).body == body
    assert node.metric("edgecache_disk_mapped_reads_total", path=store) == 0
    assert sum(origin.request_count(path) for path in bodies) == len(bodies)


def test_a_slow_client_never_gets_bytes_the_log_rewrote_under_it(start_edgecache, origin,
                                                                tmp_path):
    """The log wraps (twice over) while a client holds a zero-copy response half read: what it
    receives is a prefix of the right body, whole or cut short, never other bytes."""
    config = disk_config(tmp_path, size="128MiB", admission="exponential")
    config["cache"]["memory_admission_scale"] = "1KiB"
    config["cache"]["max_object_size"] = "8MiB"
    size = 6 << 20
    body = payload(77, size)
    origin.script("/slow.bin", Reply(200, dict(LONG, ETag='"s"'), body))
    fillers = {"/fill/%d" % i: bytes([i]) * (4 << 20) for i in range(40)}
    for path, filler in fillers.items():
        origin.script(path, Reply(200, dict(LONG, ETag='"f"'), filler))
    node = start_edgecache(config=config)
    assert node.get("/slow.bin").status == 200
    time.sleep(0.3)  # written
    sock = socket.create_connection(("127.0.0.1", node.port), timeout=20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.sendall(b"GET /slow.bin HTTP/1.1\r\nHost: example.test\r\n\r\n")
    received = sock.recv(65536)  # the head and the first bytes; the rest waits on us
    assert b"hit-local" in received
    for path in fillers:  # 160 MiB through a 126 MiB log
        assert node.get(path).status == 200
    time.sleep(0.3)
    assert node.metric("edgecache_disk_punched_segments_total") > 0
    while True:
        try:
            chunk = sock.recv(1 << 20)
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    sock.close()
    head, _, got = received.partition(b"\r\n\r\n")
    assert got == body[:len(got)], "bytes differ at %d" % next(
        i for i in range(len(got)) if got[i] != body[i])
    assert node.metric("edgecache_disk_mapped_reads_total") > 0
    assert node.get("/fill/39").status == 200  # the node keeps serving

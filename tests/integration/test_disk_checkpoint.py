"""The disk tier's index checkpoint through the real binary (issue 3): a clean stop writes it and
the next start loads it, scanning only the log written after it; objects written after the
checkpoint and then lost to a kill -9 of the process are found by that scan; a corrupt
checkpoint is counted and the start falls back to scanning the whole store. In every case
the stored objects are served from disk (hit-local) with no origin fetch."""

import time

from harness import Reply

LONG = {"Cache-Control": "public, max-age=86400", "Content-Type": "application/octet-stream"}


def config_for(tmp_path):
    return {"cache": {"memory_size": "32MiB", "max_object_size": "16MiB",
                      "memory_admission": "all",
                      "disk": [{"path": str(tmp_path / "store.bin"), "size": "64MiB"}]}}


def script(origin, first, count, size=30000):
    bodies = {}
    for i in range(first, first + count):
        path = "/ck/%d" % i
        bodies[path] = (b"%08d" % i) * (size // 8)
        origin.script(path, Reply(200, dict(LONG, ETag='"%d"' % i), bodies[path]))
    return bodies


def fill(node, bodies):
    for path, body in bodies.items():
        response = node.get(path)
        assert response.status == 200 and response.body == body


def assert_all_hit_local(node, origin, bodies):
    fetched = origin.request_count()
    for path, body in bodies.items():
        response = node.get(path)
        assert response.status == 200 and response.body == body, path
        assert response.header("X-Cache-Status") == "hit-local", path
    assert origin.request_count() == fetched  # nothing refetched


def test_a_clean_restart_loads_the_checkpoint_and_serves_every_object(start_edgecache, origin,
                                                                      tmp_path):
    config = config_for(tmp_path)
    bodies = script(origin, 0, 40)
    node = start_edgecache(config=config)
    fill(node, bodies)
    assert node.stop() == 0
    assert (tmp_path / "store.bin.index").exists()

    node = start_edgecache(config=config)
    assert node.metric("edgecache_disk_rebuild_from_checkpoint") == 1
    assert node.metric("edgecache_disk_checkpoint_fallbacks_total") == 0
    # Nothing after the checkpoint to scan: one 4 MiB chunk at most, not the 64 MiB store.
    assert node.metric("edgecache_disk_rebuild_scanned_bytes") <= 4 << 20
    assert node.metric("edgecache_disk_objects") == 40
    assert_all_hit_local(node, origin, bodies)


def test_objects_written_after_the_checkpoint_survive_a_kill_9(start_edgecache, origin, tmp_path):
    config = config_for(tmp_path)
    before = script(origin, 0, 20)
    after = script(origin, 20, 20)
    node = start_edgecache(config=config)
    fill(node, before)
    assert node.stop() == 0  # checkpoint covers `before`
    node = start_edgecache(config=config)
    assert node.metric("edgecache_disk_rebuild_from_checkpoint") == 1
    fill(node, after)
    # Written (not synced) within ~10 ms of completing: wait until the store holds all 40
    # (edgecache_disk_objects counts objects still being written too) and its writes stop.
    for _ in range(100):
        if node.metric("edgecache_disk_objects") == 40:
            break
        time.sleep(0.05)
    writes = None
    for _ in range(100):
        time.sleep(0.2)
        now = node.metric("edgecache_disk_operations_total", op="write")
        if now == writes:
            break
        writes = now
    assert node.metric("edgecache_disk_checkpoint_writes_total") == 0  # the old one stays
    node.process.kill()  # SIGKILL: no checkpoint, no sync
    node.process.wait()
    node.stop()

    node = start_edgecache(config=config)
    assert node.metric("edgecache_disk_rebuild_from_checkpoint") == 1
    assert node.metric("edgecache_disk_rebuild_scanned_bytes") > 0
    assert node.metric("edgecache_disk_objects") == 40
    assert_all_hit_local(node, origin, dict(before, **after))
    assert node.metric("edgecache_disk_corrupt_records_total") == 0


def test_a_corrupt_checkpoint_is_counted_and_the_whole_store_is_scanned(start_edgecache, origin,
                                                                       tmp_path):
    config = config_for(tmp_path)
    bodies = script(origin, 0, 30)
    node = start_edgecache(config=config)
    fill(node, bodies)
    assert node.stop() == 0
    index = tmp_path / "store.bin.index"
    data = bytearray(index.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the entries: their checksum fails
    index.write_bytes(bytes(data))

    node = start_edgecache(config=config)
    assert node.metric("edgecache_disk_checkpoint_fallbacks_total") == 1
    assert node.metric("edgecache_disk_rebuild_from_checkpoint") == 0
    assert node.metric("edgecache_disk_rebuild_scanned_bytes") >= 60 << 20  # the whole log
    assert node.metric("edgecache_disk_objects") == 30
    assert_all_hit_local(node, origin, bodies)
    # The start writes a fresh checkpoint soon after (the writer, not the loops).
    assert node.stop() == 0
    node = start_edgecache(config=config)
    assert node.metric("edgecache_disk_rebuild_from_checkpoint") == 1
    assert node.metric("edgecache_disk_checkpoint_fallbacks_total") == 0

"""Disk-tier faults (issue 3): ENOSPC and EIO injected with libfiu through the store's fault
points (switched on at run time with fiu-ctrl; fiu-run's POSIX preload crashes under ASan, the
in-code points do not), and a store file that vanishes. Each time the store is
marked failed (edgecache_disk_store_up{path} 0, /healthz detail), nothing wrong is served, and
the node keeps serving from memory and the origin."""

import os
import shutil
import subprocess
import time

import pytest

from harness import Edgecache, Reply, wait_for

LONG = {"Cache-Control": "public, max-age=86400", "Content-Type": "text/plain"}

needs_fiu = pytest.mark.skipif(shutil.which("fiu-ctrl") is None,
                               reason="fiu-utils not installed (scripts/install-deps test)")



def disk_config(store):
    return {"cache": {"memory_admission": "all", "disk": [{"path": str(store), "size": "32MiB"}]}}


class FiuNode:
    """An Edgecache whose disk-tier fault points (libfiu, storage/fault_points.h) can be
    switched on from outside with fiu-ctrl."""

    def __init__(self, tmp_path, origin, config):
        self.ctrl = str(tmp_path / "fiu-ctrl")
        self.node = Edgecache(tmp_path, origin, config=config)
        os.environ["EDGECACHE_FAULT_FIFO"] = self.ctrl

    def start(self):
        try:
            self.node.start()
        finally:
            os.environ.pop("EDGECACHE_FAULT_FIFO", None)
        assert "fault injection enabled" in self.node.stderr(), "edgecache built without libfiu"
        return self.node

    def enable(self, name, errno_value):
        subprocess.run(["fiu-ctrl", "-f", self.ctrl, "-c",
                        "enable name=%s,failinfo=%d" % (name, errno_value),
                        str(self.node.process.pid)], check=True, timeout=10)

    def close(self):
        self.node.stop()
        self.node.check_sanitizers()


@pytest.fixture
def fiu_node(tmp_path, origin):
    nodes = []

    def make(config):
        directory = tmp_path / ("fiu%d" % len(nodes))
        os.makedirs(directory, exist_ok=True)
        node = FiuNode(directory, origin, config)
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        node.close()


@needs_fiu
def test_enospc_on_write_marks_the_store_failed_and_the_node_keeps_serving(fiu_node, origin, tmp_path):
    store = tmp_path / "store.bin"
    runner = fiu_node(disk_config(store))
    node = runner.start()
    origin.script("/before", Reply(200, LONG, b"before the fault"))
    origin.script("/after", Reply(200, LONG, b"after the fault"))
    assert node.get("/before").status == 200
    assert node.metric("edgecache_disk_store_up", path=str(store)) == 1
    runner.enable("edgecache/disk/write", 28)  # ENOSPC
    assert node.get("/after").body == b"after the fault"  # its disk write fails
    assert wait_for(lambda: node.metric("edgecache_disk_store_up", path=str(store)) == 0)
    status, text = node.healthz()
    assert status == 200 and "down" in text and "No space left" in text
    assert node.metric("edgecache_disk_errors_total", path=str(store)) >= 1
    # Memory still answers, the origin still answers.
    again = node.get("/after")
    assert again.body == b"after the fault" and again.header("X-Cache-Status") == "hit-front"
    origin.script("/new", Reply(200, LONG, b"new"))
    assert node.get("/new").body == b"new"


@needs_fiu
def test_eio_on_read_is_a_miss_served_from_the_origin(start_edgecache, fiu_node, origin, tmp_path):
    store = tmp_path / "store.bin"
    origin.script("/obj", Reply(200, LONG, b"x" * 50000))
    first = start_edgecache(config=disk_config(store))
    assert first.get("/obj").status == 200
    assert first.stop() == 0
    runner = fiu_node(disk_config(store))
    node = runner.start()
    assert node.metric("edgecache_disk_objects", path=str(store)) == 1
    runner.enable("edgecache/disk/read", 5)  # EIO
    response = node.get("/obj")
    assert response.status == 200 and response.body == b"x" * 50000
    assert response.header("X-Cache-Status") == "miss"
    assert origin.request_count("/obj") == 2
    assert wait_for(lambda: node.metric("edgecache_disk_store_up", path=str(store)) == 0)
    assert "Input/output error" in node.healthz()[1]


def test_a_vanished_store_file_marks_the_store_failed(start_edgecache, origin, tmp_path):
    store = tmp_path / "store.bin"
    node = start_edgecache(config=disk_config(store))
    origin.script("/a", Reply(200, LONG, b"aaa"))
    assert node.get("/a").status == 200
    os.remove(store)
    assert wait_for(lambda: node.metric("edgecache_disk_store_up", path=str(store)) == 0)
    assert "vanished" in node.healthz()[1]
    second = node.get("/a")
    assert second.body == b"aaa" and second.header("X-Cache-Status") == "hit-front"

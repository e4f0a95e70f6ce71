"""Fixtures for the integration suite: a shared TestClock, a scriptable Origin, and an
`edgecache` factory that starts the real binary and, at teardown, stops it and fails the
test on sanitizer output."""

import pytest

from harness import Edgecache, Origin, TestClock


@pytest.fixture
def clock():
    return TestClock()


@pytest.fixture
def origin(clock):
    server = Origin(clock)
    yield server
    server.close()


@pytest.fixture
def start_edgecache(tmp_path, origin):
    """start_edgecache(config=None, args=None, origin=origin, ...) -> a running Edgecache."""
    started = []

    def start(config=None, args=None, origin_override=None, **kwargs):
        directory = tmp_path / ("node%d" % len(started))
        directory.mkdir(exist_ok=True)
        instance = Edgecache(directory, origin_override or origin, config=config, args=args,
                             **kwargs)
        started.append(instance)
        return instance.start()

    yield start
    for instance in started:
        instance.stop()
        instance.check_sanitizers()


@pytest.fixture
def edgecache(start_edgecache):
    return start_edgecache()


@pytest.fixture(scope="module")
def shared_node(tmp_path_factory):
    """One edgecache + Origin for a whole module of short, independent cases (the hardening
    table): starting an ASan binary per case would dominate the suite's run time. Each test
    calls origin.reset_log() first."""
    clock = TestClock()
    server = Origin(clock)
    node = Edgecache(tmp_path_factory.mktemp("shared"), server,
                     config={"limits": {"header_timeout": "2s", "max_ranges": 16}})
    node.start()
    yield node, server
    node.stop()
    server.close()
    node.check_sanitizers()

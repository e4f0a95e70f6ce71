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

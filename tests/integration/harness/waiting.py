"""Polling for a condition that a running edgecache reaches asynchronously (a metric moving, a
file appearing), with a deadline instead of a fixed sleep."""

import time


def wait_for(predicate, timeout=10.0, interval=0.05):
    """True as soon as predicate() is true, False if it is not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False

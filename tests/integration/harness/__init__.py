"""Integration-test harness for edgecache: a scriptable Origin, a raw-socket Client, and an
Edgecache process wrapper, sharing one TestClock. Standard library only (plus PyYAML)."""

from .clock import TestClock
from .client import Client, Response
from .origin import Origin, Reply, RecordedRequest
from .edgecache import Edgecache, find_binary, free_port
from .waiting import wait_for

__all__ = [
    "TestClock", "Client", "Response", "Origin", "Reply", "RecordedRequest", "Edgecache",
    "find_binary", "free_port", "wait_for",
]

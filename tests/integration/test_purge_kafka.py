"""Kafka resource_change purges against the real binary. There is no Kafka broker package on
these machines: the cluster is librdkafka's built-in mock cluster (rd_kafka_mock), run in a
process of its own (build/<preset>/tools/kafka_mock), with real TCP brokers on 127.0.0.1;
edgecache's consumer talks to it as it would to a real cluster (group join, fetch, offset
commit)."""

import datetime
import json
import os
import subprocess
import time

import pytest

from harness import Reply, wait_for as harness_wait_for
from harness.edgecache import find_binary


# The Kafka cluster here is an in-process mock, but consumer-group joins take seconds.
def wait_for(predicate, timeout=30.0):
    return harness_wait_for(predicate, timeout, interval=0.1)


CACHEABLE = {"Cache-Control": "public, max-age=300", "Content-Type": "text/plain"}
TOPICS = ["eqiad.resource-purge", "codfw.resource-purge"]


class MockKafka:
    def __init__(self):
        tool = os.path.join(os.path.dirname(find_binary()), "..", "..", "tools", "kafka_mock")
        if not os.path.exists(tool):
            pytest.skip("kafka_mock not built")
        self.process = subprocess.Popen([tool, ",".join(TOPICS), "2"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True)
        line = self.process.stdout.readline()
        assert line.startswith("BOOTSTRAP "), line
        self.bootstrap = line.split()[1]

    def produce(self, topic, event):
        payload = event if isinstance(event, str) else json.dumps(event)
        self.process.stdin.write("%s %s\n" % (topic, payload))
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "OK"

    def close(self):
        try:
            self.process.stdin.write("QUIT\n")
            self.process.stdin.flush()
            self.process.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()


@pytest.fixture
def kafka():
    # Requested before start_edgecache, so the cluster outlives the nodes (teardown order).
    cluster = MockKafka()
    yield cluster
    cluster.close()


def iso(seconds_ago):
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)


def event(uri, seconds_ago=0, root_seconds_ago=None, tags=("mediawiki",)):
    """A resource_change event as EventBus's CdnPurgeEventRelayer builds it."""
    body = {"$schema": "/resource_change/1.0.0",
            "meta": {"uri": uri, "stream": "resource-purge", "request_id": "A", "id": "A",
                     "dt": iso(seconds_ago), "domain": "example.test"},
            "tags": list(tags)}
    if root_seconds_ago is not None:
        body["root_event"] = {"signature": "x", "dt": iso(root_seconds_ago)}
    return body


def kafka_config(kafka, **extra):
    # No short topic.metadata.refresh.interval.ms here: with librdkafka 2.0 and the mock cluster,
    # a periodic metadata refresh that lands with the JoinGroup response sends the group leader
    # into a rejoin loop ("subscription updated from metadata change"), and no partition is
    # assigned for tens of seconds (seen 1 run in ~30 under load). The topics exist from the
    # start, so the default interval loses nothing.
    section = {"brokers": kafka.bootstrap, "topics": TOPICS,
               "properties": ["auto.offset.reset=earliest",
                              "session.timeout.ms=6000", "heartbeat.interval.ms=500"]}
    section.update(extra)
    return {"purge": {"kafka": section}}



def test_issue_4_kafka_events_purge_expire_and_report_lag(kafka, start_edgecache, origin):
    node = start_edgecache(config=kafka_config(kafka, max_age="1d"))
    origin.script("/wiki/Foo", Reply(200, CACHEABLE, b"foo"))
    node.get("/wiki/Foo")
    assert node.get("/wiki/Foo").header("X-Cache-Status") == "hit-front"

    kafka.produce("eqiad.resource-purge", event("http://example.test/wiki/Foo", seconds_ago=5))
    assert wait_for(lambda: node.metric("edgecache_purges_applied_total", source="kafka") == 1), \
        node.stderr()[-20000:]
    assert node.get("/wiki/Foo").header("X-Cache-Status") == "miss"
    assert node.metric("edgecache_purge_event_lag_seconds") >= 4

    # root_event.dt decides the age: an edit two days old is past max_age (1d), even though
    # the event itself is fresh.
    kafka.produce("codfw.resource-purge",
                  event("http://example.test/wiki/Foo", seconds_ago=0, root_seconds_ago=2 * 86400))
    kafka.produce("codfw.resource-purge", "{not json")
    kafka.produce("codfw.resource-purge", json.dumps({"meta": {"dt": iso(0)}}))  # no meta.uri
    assert wait_for(lambda: node.metric("edgecache_purges_received_total", source="kafka") == 4)
    assert node.metric("edgecache_purges_expired_total") == 1
    assert node.metric("edgecache_purges_rejected_total", source="kafka", reason="malformed") == 2
    assert node.metric("edgecache_purges_applied_total", source="kafka") == 1
    assert node.get("/wiki/Foo").header("X-Cache-Status") == "hit-front"  # not purged again
    assert wait_for(lambda: node.metric("edgecache_purge_backlog") == 0)


def test_issue_4_kafka_offsets_are_committed_so_a_restart_loses_nothing(kafka, start_edgecache):
    config = kafka_config(kafka)
    first = start_edgecache(config=config)
    kafka.produce("eqiad.resource-purge", event("http://example.test/one"))
    assert wait_for(lambda: first.metric("edgecache_purges_applied_total", source="kafka") == 1)
    assert first.stop() == 0  # drains: the consumer commits what it applied, then leaves

    # Produced while the node is down: the restarted node (same group: the node name) starts
    # from the committed offsets, so it applies this one and does not replay the first.
    kafka.produce("eqiad.resource-purge", event("http://example.test/two"))
    second = start_edgecache(config=config)
    assert wait_for(lambda: second.metric("edgecache_purges_applied_total", source="kafka") == 1), \
        first.stderr()[-6000:] + "\n-----\n" + second.stderr()[-20000:]
    time.sleep(2)
    assert second.metric("edgecache_purges_received_total", source="kafka") == 1


def test_issue_4_a_vanished_cluster_does_not_hold_up_the_drain(start_edgecache, kafka):
    node = start_edgecache(config=kafka_config(kafka))
    kafka.produce("eqiad.resource-purge", event("http://example.test/x"))
    assert wait_for(lambda: node.metric("edgecache_purges_applied_total", source="kafka") == 1)
    kafka.close()
    started = time.monotonic()
    assert node.stop() == 0
    assert time.monotonic() - started < 20

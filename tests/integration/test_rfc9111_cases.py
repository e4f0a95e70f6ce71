"""End-to-end runner for the RFC 9111 behaviour cases in tests/cases/rfc9111/*.yaml (the same
files the cache room's policy tests run). Each case gets a fresh edgecache and Origin; each
step advances both clocks, scripts the origin, sends the request, and checks the response and
whether (and with what) the origin was reached. Add cases, not code."""

import glob
import os

import time

import pytest
import yaml

from harness import Client, Reply

CASES_DIR = os.path.join(os.path.dirname(__file__), "..", "cases", "rfc9111")
HOST = "example.test"
# Case overrides are given in seconds; these cache.* keys take durations.
DURATION_KEYS = {"default_ttl", "ttl_cap", "heuristic_cap", "hit_for_pass", "grace"}


def load_cases():
    params = []
    for path in sorted(glob.glob(os.path.join(CASES_DIR, "*.yaml"))):
        with open(path) as f:
            cases = yaml.safe_load(f) or []
        for case in cases:
            case_id = "%s:%s" % (os.path.basename(path)[:-5], case.get("name", "?"))
            params.append(pytest.param(case, id=case_id))
    return params or [pytest.param(None, id="no-cases-yet",
                                   marks=pytest.mark.skip(reason="no tests/cases/rfc9111 yet"))]


ORIGIN_PAUSE = 0.15  # seconds

# Case config keys that live outside the cache section of edgecache's config.
LIMITS_KEYS = {"max_ranges"}


def node_config(overrides):
    cache, limits = {}, {}
    for key, value in (overrides or {}).items():
        if key in DURATION_KEYS and isinstance(value, (int, float)):
            value = "%ds" % value
        (limits if key in LIMITS_KEYS else cache)[key] = value
    config = {"cache": cache}
    if limits:
        config["limits"] = limits
    return config


def settle_background_requests(origin, quiet=0.05, limit=3.0):
    """Waits until every request the origin got is answered and none came for `quiet`
    seconds, so background refreshes finish before the next step starts."""
    deadline = time.monotonic() + limit
    count = -1
    while time.monotonic() < deadline:
        now = origin.request_count()
        if now == count and origin.replies_sent_before(time.monotonic()) == now:
            return
        count = now
        time.sleep(quiet)


def as_pairs(headers):
    return [(str(k), str(v)) for k, v in (headers or {}).items()]


def check_header(response, name, expected, clock):
    actual = response.header(name)
    if expected is None:
        assert actual is None, "%s: expected absent, got %r" % (name, actual)
        return
    assert actual is not None, "%s missing; headers %r" % (name, response.headers.items)
    expected = clock.expand(str(expected))
    # The clocks are frozen (Edgecache.freeze_clock): ages are exact, Age included.
    assert actual == expected, "%s: %r != %r" % (name, actual, expected)


@pytest.mark.parametrize("case", load_cases())
def test_rfc9111_case(start_edgecache, origin, case):
    node = start_edgecache(config=node_config(case.get("config")))
    node.freeze_clock()
    clock = node.clock
    for index, step in enumerate(case["steps"]):
        where = "%s step %d" % (case["name"], index)
        node.advance(step.get("advance", 0))
        request = step["request"]
        method = request.get("method", "GET")
        path = request.get("path", "/")
        # What the origin answers if asked: the step's script, else the format's default
        # (200 "body"), never an earlier step's script for the same path.
        # After the first step the origin answers after a short pause, so a refresh the node
        # runs in the background (stale-while-revalidate) is still unanswered when the
        # client has its answer, while a request the client waits on is answered first.
        scripted = step.get("origin") or {}
        origin.script(path, Reply(scripted.get("status", 200),
                                  as_pairs(scripted.get("headers")),
                                  str(scripted.get("body", "body")).encode(),
                                  delay_before_headers=ORIGIN_PAUSE if index else 0))
        before = origin.request_count()
        headers = [(k, clock.expand(v)) for k, v in as_pairs(request.get("headers"))]
        body = str(request.get("body", "")).encode()
        with Client(node.port) as client:
            response = client.request(method, path, headers, body, host=HOST)
            answered_at = time.monotonic()
        expect = step.get("expect", {})
        # "origin_hit" means the client waited on the origin: the origin began answering a
        # request before the client had its own answer. A stale-while-revalidate refresh runs
        # in the background and is answered after the client's (see ORIGIN_PAUSE).
        reached = origin.answers_started_before(answered_at) > before
        settle_background_requests(origin)
        if "status" in expect:
            assert response.status == expect["status"], "%s: %r" % (where, response)
        if "origin_hit" in expect:
            assert reached == expect["origin_hit"], "%s: origin reached=%s" % (where, reached)
        if "origin_request_headers" in expect:
            # Background refreshes count here: the check is about what the origin was sent.
            assert origin.request_count() > before, "%s: origin not reached" % where
            forwarded = origin.requests[-1]
            for name, value in (expect["origin_request_headers"] or {}).items():
                got = forwarded.header(name)
                if value is None:
                    assert got is None, "%s: origin got %s: %r" % (where, name, got)
                else:
                    assert got == clock.expand(str(value)), "%s: origin %s: %r" % (where, name, got)
        for name, value in (expect.get("headers") or {}).items():
            check_header(response, name, value, clock)
        for name in expect.get("absent_headers") or []:
            assert response.header(name) is None, "%s: %s present" % (where, name)
        if "body" in expect:
            assert response.body == str(expect["body"]).encode(), "%s: body %r" % (
                where, response.body[:200])

#!/usr/bin/env python3
"""Checks deploy/grafana/edgecache.json: valid JSON, and every metric an expression names is
either declared in the code (docs/user/metrics.md, generated from the declarations) or one the
purge and disk rooms own (their names are fixed by issue 4). Histogram suffixes (_bucket,
_sum, _count) are stripped first. Exits 1 and lists every unknown name."""
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OWNED_BY_OTHERS = {
    "edgecache_purges_received_total", "edgecache_purges_applied_total",
    "edgecache_purges_rejected_total", "edgecache_htcp_lost_total",
    "edgecache_purge_event_lag_seconds", "edgecache_purge_backlog", "edgecache_disk_store_up",
}


def exprs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            else:
                yield from exprs(value)
    elif isinstance(node, list):
        for item in node:
            yield from exprs(item)


def main():
    dashboard = json.loads((ROOT / "deploy/grafana/edgecache.json").read_text())
    declared = set(re.findall(r"^\| `(edgecache_[a-z0-9_]+)`",
                              (ROOT / "docs/user/metrics.md").read_text(), re.M))
    known = declared | OWNED_BY_OTHERS
    problems = []
    count = 0
    for expr in exprs(dashboard):
        count += 1
        for name in re.findall(r"\bedgecache_[a-z0-9_]+", expr):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            if name not in known and base not in known:
                problems.append("unknown metric %s in: %s" % (name, expr))
    if count == 0:
        problems.append("no expressions found")
    for problem in problems:
        print(problem)
    print("check_dashboard: %d expressions, %d problem(s)" % (count, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

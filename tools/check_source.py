#!/usr/bin/env python3
"""Source rules that a compiler does not check (STYLE.md), as greps with per-path allowlists:
- no `throw` in src/ (errors are values; see docs/dev/errors.md);
- no direct clock reads outside the places that own time;
- every header starts with `#pragma once`;
- every header says what it owns in a comment near the top.
Exits 1 and lists every violation."""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "src"

THROW_ALLOWED = set()
CLOCK_ALLOWED = {
    "src/base/time_source.cc",  # the time source itself
    "src/base/log.cc",          # timestamps of diagnostic lines
    "src/net/event_loop.cc",    # the loop's cached monotonic now()
    "src/server/server.cc",     # the drain deadline on the signal thread
}
CLOCK = re.compile(r"\b(system_clock|steady_clock|high_resolution_clock)::now\b|\bclock_gettime\b|"
                   r"\bgettimeofday\b|\btime\(nullptr\)")
THROW = re.compile(r"^\s*[^/\n]*\bthrow\b")


def main():
    problems = []
    for path in sorted(SRC.rglob("*")):
        if path.suffix not in (".h", ".cc"):
            continue
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = text.splitlines()
        for number, line in enumerate(lines, 1):
            code = line.split("//", 1)[0]
            if THROW.search(code) and rel not in THROW_ALLOWED:
                problems.append("%s:%d: throw on the data path (return an ec::Error)" % (rel, number))
            if CLOCK.search(code) and rel not in CLOCK_ALLOWED:
                problems.append("%s:%d: reads a clock directly (take a TimeSource)" % (rel, number))
        if path.suffix == ".h":
            if not lines or lines[0].strip() != "#pragma once":
                problems.append("%s:1: header must start with #pragma once" % rel)
            elif not any(l.startswith("//") for l in lines[1:12]):
                problems.append("%s:2: header needs a comment saying what it owns" % rel)
    for problem in problems:
        print(problem)
    print("check_source: %d problem(s)" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

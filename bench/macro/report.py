"""Summaries of a peer benchmark run: medians, the console table, edgecache's ratios, Markdown."""

import statistics

METRICS = ("rps", "p50_ms", "p99_ms", "cpu_us_per_req")
FLOOR = "floor"  # bench/macro/floor.c: a reference line, not a peer


def summarise(passes):
    """Median of each metric over the kept passes of one (peer, workload) cell, plus its flags."""
    if not passes:
        return None
    cell = {m: statistics.median(p[m] for p in passes) for m in METRICS}
    # Which side was the bottleneck: a server core near 100% means the proxy limits req/s.
    cell["server_busy_pct"] = statistics.median(100 * p["server_cpu_s"] / p["wall_s"]
                                                for p in passes)
    cell["wrk_busy_pct"] = statistics.median(100 * p["wrk_cpu_s"] / p["wall_s"] for p in passes)
    cell["passes"] = len(passes)
    cell["origin_requests"] = sum(p["origin_requests"] for p in passes)
    cell["requests"] = sum(p["requests"] for p in passes)
    cell["cpu0_other_pct"] = max(p["cpu0_other_pct"] for p in passes)
    cell["cpu1_other_pct"] = max(p["cpu1_other_pct"] for p in passes)
    flags = set()
    for p in passes:
        flags.update(p["flags"])
    cell["flags"] = sorted(flags)
    return cell


def ratios(cells, workload, target="edgecache"):
    """edgecache against the best peer by req/s and the leanest peer by CPU per request.

    Peers whose cell is flagged as not serving hits or as failing are left out: a proxy that does
    not do the work would otherwise set the bar.
    """
    mine = cells.get(target, {}).get(workload)
    peers = {name: c[workload] for name, c in cells.items()
             if name not in (target, FLOOR) and c.get(workload) and comparable(c[workload])}
    if not mine or not peers:
        return None
    best = max(peers, key=lambda n: peers[n]["rps"])
    lean = min(peers, key=lambda n: peers[n]["cpu_us_per_req"])
    p99 = min(peers, key=lambda n: peers[n]["p99_ms"])
    return {
        "best_peer": best,
        "rps_ratio": mine["rps"] / peers[best]["rps"],
        "best_peer_cpu_ratio": mine["cpu_us_per_req"] / peers[best]["cpu_us_per_req"],
        "leanest_peer": lean,
        "cpu_ratio": mine["cpu_us_per_req"] / peers[lean]["cpu_us_per_req"],
        "p99_vs_best_peer": mine["p99_ms"] / peers[best]["p99_ms"],
        "lowest_p99_peer": p99,
    }


def comparable(cell):
    """False when the cell does not measure what it claims: hits that reached the origin, a miss
    pass whose URLs did not, errors, or a thread that escaped the server core."""
    bad = ("origin-saw", "miss-not-reaching-origin", "errors", "pin-escape")
    return not any(f.startswith(bad) for f in cell["flags"])


def _fmtRps(v):
    return f"{v / 1000:.1f}k" if v >= 1000 else f"{v:.0f}"


def consoleTable(cells, workloads, order, loadgen="wrk"):
    rows = [("workload", "peer", "req/s", "p50 ms", "p99 ms", "CPU us/req", "origin req",
             "server%", f"{loadgen}%", "cpu0 other%", "cpu1 other%", "flags")]
    for w in workloads:
        for name in order:
            c = cells.get(name, {}).get(w)
            if c is None:
                continue
            rows.append((w, name, _fmtRps(c["rps"]), f"{c['p50_ms']:.2f}", f"{c['p99_ms']:.2f}",
                         f"{c['cpu_us_per_req']:.1f}", str(c["origin_requests"]),
                         f"{c['server_busy_pct']:.0f}", f"{c['wrk_busy_pct']:.0f}",
                         f"{c['cpu0_other_pct']:.1f}", f"{c['cpu1_other_pct']:.1f}",
                         ",".join(c["flags"]) or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(v.ljust(widths[i]) for i, v in enumerate(r)) for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    for w in workloads:
        r = ratios(cells, w)
        if r:
            floor = cells.get(FLOOR, {}).get(w)
            above = ""
            if floor and comparable(floor) and cells.get("edgecache", {}).get(w):
                mine = cells["edgecache"][w]["cpu_us_per_req"]
                lean = cells[r["leanest_peer"]][w]["cpu_us_per_req"]
                above = (f"; floor {floor['cpu_us_per_req']:.1f} us/req: edgecache"
                         f" +{mine - floor['cpu_us_per_req']:.1f}, {r['leanest_peer']}"
                         f" +{lean - floor['cpu_us_per_req']:.1f} above it")
            lines.append(f"edgecache {w}: {r['rps_ratio']:.2f}x req/s of best peer"
                         f" ({r['best_peer']}),"
                         f" {r['cpu_ratio']:.2f}x CPU/req of leanest peer ({r['leanest_peer']}),"
                         f" p99 {r['p99_vs_best_peer']:.2f}x of {r['best_peer']}'s{above}")
    return "\n".join(lines)


def markdownTable(cells, workloads, order, loadgen="wrk"):
    """Peers as columns, one row per (workload, metric), in the shape of docs/performance.md."""
    names = [n for n in order if n in cells]
    out = ["| 1 core, all from one run | " + " | ".join(names) + " |",
           "|---|" + "---:|" * len(names)]
    for w in workloads:
        for label, key, fmt in (("req/s", "rps", _fmtRps),
                                ("p50 / p99 ms", None, None),
                                (f"server / {loadgen} core busy", "busy", None),
                                ("server CPU per request", "cpu_us_per_req",
                                 lambda v: f"{v:.1f} µs")):
            vals = []
            for n in names:
                c = cells[n].get(w)
                if c is None:
                    vals.append("–")
                elif key is None:
                    vals.append(f"{c['p50_ms']:.2f} / {c['p99_ms']:.2f}")
                elif key == "busy":
                    vals.append(f"{c['server_busy_pct']:.0f}% / {c['wrk_busy_pct']:.0f}%")
                else:
                    mark = " ⚠" if not comparable(c) else ""
                    vals.append(fmt(c[key]) + mark)
            out.append(f"| {w} {label} | " + " | ".join(vals) + " |")
    return "\n".join(out)

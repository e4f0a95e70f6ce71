"""Self-tests of the benchmark's parsing and arithmetic: /usr/bin/python3 -m unittest discover
-s bench/macro -p 'test_*.py'. They need no servers; the runner itself is checked by running it.
"""

import os
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import disk_vs_ats  # noqa: E402
import h2load_run  # noqa: E402
import procs  # noqa: E402
import report  # noqa: E402
import tls_peers  # noqa: E402
import wrk_run  # noqa: E402


def _loadScript(name):
    """A runner script of this directory (no .py suffix) as a module, without running main."""
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.SourceFileLoader(name, os.path.join(
        os.path.dirname(os.path.abspath(__file__)), name))
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module

# Verbatim wrk 4.1 output (Debian 12), one with errors and a slow tail.
WRK_OK = """Running 1s test @ http://127.0.0.1:40367/a
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   581.81us  376.13us   7.46ms   96.98%
    Req/Sec     2.89k    88.19     2.97k    90.91%
  Latency Distribution
     50%  555.00us
     75%  675.00us
     90%  815.00us
     99%    1.17ms
  3157 requests in 1.10s, 0.91MB read
Requests/sec:   2870.70
Transfer/sec:    843.83KB
"""

WRK_ERRORS = """Running 10s test @ http://127.0.0.1:1234/obj/4m.bin
  1 threads and 64 connections
  Latency Distribution
     50%   92.57ms
     75%  100.00ms
     90%  101.00ms
     99%    1.20s
  6730 requests in 10.00s, 26.29GB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:    673.00
Transfer/sec:      2.63GB
"""


class WrkParseTest(unittest.TestCase):
    def testParsesCountsAndPercentilesInMilliseconds(self):
        r = wrk_run.parse(WRK_OK)
        self.assertEqual(r.requests, 3157)
        self.assertAlmostEqual(r.seconds, 1.10)
        self.assertAlmostEqual(r.rps, 2870.70)
        self.assertAlmostEqual(r.p50_ms, 0.555)
        self.assertAlmostEqual(r.p99_ms, 1.17)
        self.assertEqual((r.non2xx, r.socket_errors), (0, 0))

    def testSecondsAndErrors(self):
        r = wrk_run.parse(WRK_ERRORS)
        self.assertAlmostEqual(r.p99_ms, 1200.0)
        self.assertEqual(r.non2xx, 7)
        self.assertEqual(r.socket_errors, 5)

    def testMissingLatencyDistributionIsAnError(self):
        without = "\n".join(l for l in WRK_OK.splitlines() if "%  " not in l)
        with self.assertRaises(ValueError):
            wrk_run.parse(without)


def _pass(rps, cpu, p99=1.0, origin=0, flags=()):
    return {"rps": rps, "p50_ms": p99 / 2, "p99_ms": p99, "cpu_us_per_req": cpu,
            "origin_requests": origin, "requests": int(rps * 10), "cpu0_other_pct": 1.0,
            "cpu1_other_pct": 2.0, "flags": list(flags), "server_cpu_s": 9.9, "wrk_cpu_s": 5.0,
            "wall_s": 10.0}


# Verbatim h2load (nghttp2 1.52.0, Debian 12) output.
H2LOAD_OK = """starting benchmark...
spawning thread #0: 2 total client(s). 20 total requests
Application protocol: http/1.1
progress: 100% done

finished in 71.64ms, 279.19 req/s, 2.20MB/s
requests: 20 total, 20 started, 20 done, 18 succeeded, 2 failed, 0 errored, 0 timeout
status codes: 17 2xx, 0 3xx, 1 4xx, 0 5xx
traffic: 161.07KB (164932) total, 2.36KB (2420) headers (space savings 0.00%), 172.62KB (176760) data
                     min         max         mean         sd        +/- sd
time for request:     1.18ms     18.01ms      6.31ms      5.58ms    80.00%
time for connect:      141us       166us       153us        17us   100.00%
time to 1st byte:     1.34ms      2.58ms      1.96ms       875us   100.00%
req/s           :     150.77      155.46      153.11        3.32   100.00%
"""


class H2loadParseTest(unittest.TestCase):
    def testCountsRateErrorsAndMeans(self):
        r = h2load_run.parse(H2LOAD_OK, list(range(1, 101)))
        self.assertEqual(r.requests, 18)
        self.assertAlmostEqual(r.seconds, 0.07164)
        self.assertAlmostEqual(r.rps, 18 / 0.07164)
        self.assertEqual(r.non2xx, 1)
        self.assertEqual(r.socket_errors, 2)
        self.assertAlmostEqual(r.connect_mean_ms, 0.153)
        self.assertAlmostEqual(r.ttfb_mean_ms, 1.96)
        # Percentiles from the per-request log, in microseconds -> ms.
        self.assertAlmostEqual(r.p50_ms, 0.0505, places=4)
        self.assertAlmostEqual(r.p99_ms, 0.09901, places=4)

    def testLogSkipsFailedStreams(self):
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("1700000000000000\t200\t120\n1700000000000100\t-1\t5\n"
                    "1700000000000200\t200\t80\n")
        try:
            self.assertEqual(h2load_run.readLog(f.name), [120, 80])
        finally:
            os.unlink(f.name)

    def testMissingSummaryIsAnError(self):
        with self.assertRaises(ValueError):
            h2load_run.parse("starting benchmark...\n")

    def testHandshakeRunIsOneRequestPerConnectionAtTheRate(self):
        opts = h2load_run.handshakeOptions(5, 2000)
        self.assertEqual(opts[opts.index("-c") + 1], "10000")
        self.assertEqual(opts[opts.index("-n") + 1], "10000")
        self.assertEqual(opts[opts.index("-r") + 1], "200")
        self.assertIn("--h1", opts)


class TlsPeersTest(unittest.TestCase):
    def testEveryPeerTurnsResumptionOff(self):
        with tempfile.TemporaryDirectory() as root:
            cert = tuple(os.path.join(root, n) for n in ("c.pem", "k.pem", "b.pem"))
            for name, make in tls_peers.PEERS.items():
                sub = os.path.join(root, name)
                os.makedirs(sub)
                if name == "ats" and not os.path.isdir("/etc/trafficserver"):
                    continue
                make(sub, 1, 2, *cert)
            tls_peers.edgecachePeer(os.path.join(root, "nginx"), 1, 2, *cert, "/bin/true")
            with open(os.path.join(root, "nginx", "nginx.conf")) as f:
                text = f.read()
            self.assertIn("ssl_session_cache off;", text)
            self.assertIn("ssl_session_tickets off;", text)
            with open(os.path.join(root, "haproxy", "haproxy.cfg")) as f:
                text = f.read()
            self.assertIn("tune.ssl.cachesize 0", text)
            self.assertIn("no-tls-tickets", text)
            with open(os.path.join(root, "nginx", "edgecache.yaml")) as f:
                text = f.read()
            self.assertIn("session_cache_size: 0", text)
            self.assertIn("session_tickets: false", text)
            with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "tls_floor.c")) as f:
                text = f.read()
            self.assertIn("SSL_SESS_CACHE_OFF", text)
            self.assertIn("SSL_CTX_set_num_tickets(ctx, 0)", text)

    def testTheTlsFloorIsAReferenceNotAPeer(self):
        tls_run = _loadScript("tls_run")
        cells = {
            "haproxy": {"h1": dict(report.summarise([_pass(70000, 14.0)]),
                                   loadgen_us_per_req=14.0)},
            "floor": {"h1": dict(report.summarise([_pass(75000, 11.0)]),
                                 loadgen_us_per_req=13.0)},
            "edgecache": {"h1": dict(report.summarise([_pass(72000, 10.0)]),
                                     loadgen_us_per_req=13.6)},
        }
        v = tls_run.verdicts(cells)["h1"]
        self.assertEqual((v["best_peer"], v["leanest_peer"]), ("haproxy", "haproxy"))
        self.assertAlmostEqual(v["rps_ratio"], 72000 / 70000)
        self.assertIn("the floor (bare OpenSSL, no proxy) reaches 1.07x", v["text"])
        self.assertFalse(v["met"])


class ReportTest(unittest.TestCase):
    def testMedianPerMetricAndUnionOfFlags(self):
        cell = report.summarise([_pass(100, 30), _pass(300, 10, flags=["noisy"]), _pass(200, 20)])
        self.assertEqual(cell["rps"], 200)
        self.assertEqual(cell["cpu_us_per_req"], 20)
        self.assertEqual(cell["flags"], ["noisy"])
        self.assertEqual(cell["passes"], 3)
        self.assertAlmostEqual(cell["server_busy_pct"], 99.0)
        self.assertAlmostEqual(cell["wrk_busy_pct"], 50.0)

    def testRatiosSkipPeersThatDidNotServeHits(self):
        cells = {
            "haproxy": {"1KiB": report.summarise([_pass(80000, 12.0, p99=2.0)])},
            "nginx": {"1KiB": report.summarise([_pass(40000, 8.0)])},
            # Fast only because the origin did the work: must not set the bar.
            "cheat": {"1KiB": report.summarise([_pass(200000, 1.0, origin=5,
                                                      flags=["origin-saw:5"])])},
            "edgecache": {"1KiB": report.summarise([_pass(100000, 6.0, p99=1.0)])},
        }
        r = report.ratios(cells, "1KiB")
        self.assertEqual(r["best_peer"], "haproxy")
        self.assertAlmostEqual(r["rps_ratio"], 1.25)
        self.assertAlmostEqual(r["best_peer_cpu_ratio"], 0.5)
        self.assertEqual(r["leanest_peer"], "nginx")
        self.assertAlmostEqual(r["cpu_ratio"], 0.75)
        self.assertAlmostEqual(r["p99_vs_best_peer"], 0.5)

    def testTheFloorIsAReferenceNotAPeer(self):
        cells = {
            "haproxy": {"1KiB": report.summarise([_pass(100000, 9.0)])},
            "floor": {"1KiB": report.summarise([_pass(120000, 7.0)])},
            "edgecache": {"1KiB": report.summarise([_pass(110000, 8.0)])},
        }
        r = report.ratios(cells, "1KiB")
        self.assertEqual((r["best_peer"], r["leanest_peer"]), ("haproxy", "haproxy"))
        line = report.consoleTable(cells, ["1KiB"], ["haproxy", "edgecache", "floor"])
        self.assertIn("floor 7.0 us/req: edgecache +1.0, haproxy +2.0 above it", line)

    def testNoRatiosWithoutEdgecache(self):
        cells = {"haproxy": {"1KiB": report.summarise([_pass(1, 1)])}}
        self.assertIsNone(report.ratios(cells, "1KiB"))


class FloorCompareTest(unittest.TestCase):
    def testBothFloorsBuild(self):
        if not os.path.exists("/usr/include/liburing.h"):
            self.skipTest("liburing-dev not installed (scripts/install-deps bench)")
        floor_compare = _loadScript("floor_compare")
        with tempfile.TemporaryDirectory() as workdir:
            binaries = floor_compare.build(workdir)
            self.assertEqual(sorted(binaries), ["epoll", "io_uring"])
            for binary in binaries.values():
                self.assertTrue(os.access(binary, os.X_OK))


class ProcsTest(unittest.TestCase):
    def testOwnCpuTimeAndAffinityAreReadable(self):
        me = os.getpid()
        self.assertIn(me, procs.descendants(me))
        sum(i * i for i in range(200000))  # burn a little CPU so the counter is not zero
        self.assertGreater(procs.cpuSeconds([me]), 0.0)
        threads = procs.affinityReport([me])
        self.assertTrue(any(k.startswith(f"{me}/{me} ") for k in threads))

    def testAffinityReportSeesAThreadThatEscapesItsPinning(self):
        sup = procs.Supervisor()
        try:
            proc = sup.start("sleeper", ["sleep", "30"], 0, os.devnull)
            # Wait for taskset to exec into sleep, so the report names the pinned program.
            for _ in range(100):
                if open(f"/proc/{proc.pid}/comm").read().strip() == "sleep":
                    break
            self.assertEqual(set(procs.affinityReport(sup.tree(proc)).values()), {"0"})
            os.sched_setaffinity(proc.pid, {0, 1})  # what Traffic Server's ET_NET did
            self.assertEqual(set(procs.affinityReport(sup.tree(proc)).values()), {"0-1"})
        finally:
            sup.stopAll()
        self.assertIsNotNone(proc.poll())

    def testCpuSpentIgnoresExitedAndCountsNewProcesses(self):
        before = {10: 5.0, 11: 2.0}
        after = {10: 6.5, 12: 0.25}  # 11 exited, 12 was born during the pass
        self.assertAlmostEqual(procs.cpuSpent(before, after), 1.75)

    def testCpuDeltaIsInSeconds(self):
        before = procs.cpuStat(0)
        after = dict(before, user=before["user"] + procs.CLOCK_TICKS)
        self.assertEqual(procs.cpuDelta(before, after)["user"], 1.0)


class DiskVsAtsTest(unittest.TestCase):
    """Both servers get the same memory and disk sizes; the edgecache variants differ only in
    admission."""

    def testEdgecacheAndAtsGetTheSameStorage(self):
        with tempfile.TemporaryDirectory() as root:
            argv, admin = disk_vs_ats.edgecacheSetup(os.path.join(root, "ec"), 1000, 2000,
                                                     "/bin/true", 32, 1024,
                                                     "  memory_admission_scale: 1KiB\n")
            with open(argv[-1]) as f:
                config = f.read()
            self.assertIn("memory_size: 32MiB", config)
            self.assertIn("size: 1024MiB}]", config)
            self.assertIn("\n  memory_admission_scale: 1KiB\n  disk:", config)
            self.assertGreater(admin, 0)
            if not os.path.isdir("/etc/trafficserver"):
                self.skipTest("trafficserver is not installed")
            ats = os.path.join(root, "ats")
            disk_vs_ats.atsSetup(ats, 1001, 2000, 32, 1024)
            with open(os.path.join(ats, "etc", "records.config")) as f:
                self.assertIn(f"ram_cache.size INT {32 << 20}\n", f.read())
            with open(os.path.join(ats, "etc", "storage.config")) as f:
                self.assertEqual(f.read().split()[1], "1024M")
            self.assertEqual(os.path.getsize(os.path.join(ats, "cache", "span.db")), 1 << 30)

    def testCycleScriptWalksTheWorkingSet(self):
        with tempfile.TemporaryDirectory() as root:
            path = os.path.join(root, "c.lua")
            disk_vs_ats.writeCycle(path, "256KiB", 512)
            with open(path) as f:
                self.assertIn('"/d/256KiB/" .. (n % 512)', f.read())


if __name__ == "__main__":
    unittest.main()

"""Process bookkeeping for the peer benchmark: start, pin, account CPU, and always clean up.

Every server the benchmark starts goes through Supervisor, which remembers its PID and the PIDs
of every descendant it has seen, so that exit (normal, exception or signal) can end exactly
those processes by PID and nothing else on the shared machine.
"""

import os
import signal
import socket
import subprocess
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def freePort():
    """A port the kernel just handed out on 127.0.0.1 (bind(0)), released for the server."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _readStat(pid):
    """(ppid, utime+stime ticks) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    # comm may contain spaces or parentheses: split after the last ')'.
    fields = data[data.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def descendants(root):
    """root and every live process below it in the process tree."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = _readStat(int(entry))
        if st is not None:
            children.setdefault(st[0], []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if os.path.exists(f"/proc/{pid}"):
            found.append(pid)
            todo.extend(children.get(pid, []))
    return found


def cpuSeconds(pids):
    """utime+stime, in seconds, summed over pids (each process's figure covers all its threads)."""
    total = 0
    for pid in pids:
        st = _readStat(pid)
        if st is not None:
            total += st[1]
    return total / CLOCK_TICKS


def cpuByPid(pids):
    """{pid: utime+stime seconds} for the pids still alive."""
    out = {}
    for pid in pids:
        st = _readStat(pid)
        if st is not None:
            out[pid] = st[1] / CLOCK_TICKS
    return out


def cpuSpent(before, after):
    """CPU seconds between two cpuByPid() samples; a process that exited in between counts 0
    rather than minus its whole past (its last moments are lost, which is rare and small)."""
    return sum(max(0.0, t - before.get(pid, 0.0)) for pid, t in after.items())


def cpuStat(cpu):
    """Jiffy counters of one CPU from /proc/stat as a dict."""
    names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{cpu} "):
                values = [int(v) for v in line.split()[1:9]]
                return dict(zip(names, values))
    raise RuntimeError(f"cpu{cpu} missing from /proc/stat")


def cpuDelta(before, after):
    """Seconds spent per category on one CPU between two cpuStat() samples."""
    return {k: (after[k] - before[k]) / CLOCK_TICKS for k in before}


def busyShare(cpus, interval):
    """Fraction of each CPU's time spent busy (anything but idle/iowait) over interval seconds."""
    before = {c: cpuStat(c) for c in cpus}
    time.sleep(interval)
    shares = {}
    for c in cpus:
        d = cpuDelta(before[c], cpuStat(c))
        total = sum(d.values())
        shares[c] = (total - d["idle"] - d["iowait"]) / total if total else 0.0
    return shares


def affinityReport(pids):
    """{"pid/tid comm": Cpus_allowed_list} for every thread of every pid."""
    report = {}
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/status") as f:
                    status = f.read()
                with open(f"/proc/{pid}/task/{tid}/comm") as f:
                    comm = f.read().strip()
            except OSError:
                continue  # the thread exited between listing and reading
            for line in status.splitlines():
                if line.startswith("Cpus_allowed_list:"):
                    report[f"{pid}/{tid} {comm}"] = line.split(":", 1)[1].strip()
    return report


def foreignInstances(names):
    """PIDs of already-running processes whose comm is in names (system services, others' runs)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in names:
            found.setdefault(comm, []).append(int(entry))
    return found


class Supervisor:
    """Owns every process the benchmark starts; stopAll() ends them by PID."""

    def __init__(self):
        self.procs_ = []  # (name, Popen, log file)
        self.seen_ = set()  # every descendant PID observed, for the final sweep
        self.sessions_ = set()  # session ids of our servers (each starts its own session)

    def start(self, name, argv, cpu, logPath, env=None):
        log = open(logPath, "ab")
        pinned = ["taskset", "-c", str(cpu)] + argv if cpu is not None else argv
        # A new session keeps terminal signals (Ctrl-C) from reaching servers before our handler
        # has stopped them in order; we still end them by PID.
        proc = subprocess.Popen(pinned, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        self.procs_.append((name, proc, log))
        self.seen_.add(proc.pid)
        self.sessions_.add(proc.pid)
        return proc

    def tree(self, proc):
        pids = descendants(proc.pid)
        self.seen_.update(pids)
        return pids

    def stop(self, proc, grace=10.0):
        """SIGTERM the server and its descendants, SIGKILL whatever is left after grace seconds."""
        pids = self.tree(proc) if proc.poll() is None else []
        for pid in pids:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if proc.poll() is not None and not any(_alive(p) for p in pids if p != proc.pid):
                break
            time.sleep(0.1)
        for pid in pids:
            if _alive(pid):
                _signal(pid, signal.SIGKILL)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for i, (_, p, log) in enumerate(self.procs_):
            if p is proc:
                log.close()
                del self.procs_[i]
                break

    def stopAll(self):
        for _, proc, _ in reversed(list(self.procs_)):
            self.stop(proc, grace=5.0)
        # Last sweep over PIDs we saw under our servers (e.g. a re-parented child).
        for pid in self.seen_:
            if _alive(pid) and _inSessions(pid, self.sessions_):
                _signal(pid, signal.SIGKILL)


def _alive(pid):
    st = _readStat(pid)
    if st is None:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _inSessions(pid, sessions):
    """Guard against PID reuse: only processes still in a session this benchmark started."""
    try:
        return os.getsid(pid) in sessions
    except OSError:
        return False


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass

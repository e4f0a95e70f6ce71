"""A wall clock the tests can move forward. The Origin stamps Date/Last-Modified/Expires with
it, and Edgecache advances edgecache's own test clock by the same amount, so freshness
arithmetic on both sides agrees without sleeping."""

import email.utils
import re
import threading
import time


class TestClock:
    __test__ = False  # not a pytest class

    def __init__(self):
        self._offset = 0.0
        self._frozen = None  # epoch seconds while frozen
        self._lock = threading.Lock()

    def freeze(self):
        """Stops real time: from now on only advance() moves this clock (exact ages)."""
        with self._lock:
            if self._frozen is None:
                self._frozen = int(time.time() + self._offset)
                self._offset = 0.0
            return self._frozen + self._offset

    def now(self):
        with self._lock:
            if self._frozen is not None:
                return self._frozen + self._offset
            return time.time() + self._offset

    def advance(self, seconds):
        with self._lock:
            self._offset += seconds

    def http_date(self, delta=0):
        return email.utils.formatdate(int(self.now() + delta), usegmt=True)

    _TEMPLATE = re.compile(r"\{now(?:([+-])(\d+))?\}")

    def expand(self, text):
        """Replaces {now}, {now-N} and {now+N} with IMF-fixdates from this clock."""
        def date(match):
            sign, amount = match.group(1), match.group(2)
            delta = 0 if not sign else int(amount) * (1 if sign == "+" else -1)
            return self.http_date(delta)
        return self._TEMPLATE.sub(date, text)

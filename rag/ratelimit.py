"""A per-client limit on questions, so one client cannot flood the app for everyone else."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW = 60.0


class RateLimiter:
    """At most `per_minute` questions per key in any sixty seconds (0: no limit)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_for(self, key: str) -> float:
        """0 if `key` may ask now (and counts it); else the seconds until it may."""
        if self.per_minute <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            times = self._seen.setdefault(key, deque())
            while times and now - times[0] >= WINDOW:
                times.popleft()
            if len(times) >= self.per_minute:
                return WINDOW - (now - times[0])
            times.append(now)
            if len(self._seen) > 10_000:  # forget idle clients
                self._seen = {k: v for k, v in self._seen.items() if v and now - v[-1] < WINDOW}
            return 0.0


def too_many(seconds: float) -> str:
    return (f"Too many questions from this address in the last minute; please try again in "
            f"{max(1, round(seconds))} s.")

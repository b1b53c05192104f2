"""Apple's clock inside the simulator: wall time multiplied by a time scale."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class SimClock:
    """`time_scale=3600` makes an hour of Apple time pass in one wall-clock second."""

    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {time_scale}: use 1 for real time")
        self.time_scale = time_scale
        self._origin_wall = time.monotonic()
        self._origin_apple = time.time()

    def now(self) -> float:
        """Apple time as a POSIX timestamp."""
        return self._origin_apple + (time.monotonic() - self._origin_wall) * self.time_scale

    def now_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def wall_seconds(self, apple_seconds: float) -> float:
        return apple_seconds / self.time_scale


def iso(timestamp: float) -> str:
    """Apple's date-time format: ISO 8601 with a UTC offset and no fraction."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")

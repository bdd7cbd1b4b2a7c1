"""Per-number send pacing: WhatsApp numbers have a throughput (Meta's default is 80 messages per
second), and a rate-limit answer (130429, 131056) pauses the number for the backoff.

One `Pacer` per sender process; each integration (business number) gets its own schedule of
slots `1 / rate` apart. `wait` reserves the next slot and sleeps until it; `pause` pushes the
number's next slot out. The clock and the sleep are arguments, so tests need no real time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

DEFAULT_RATE = 80.0  # messages per second per number (Meta's default throughput)


class Pacer:
    def __init__(self, *, default_rate: float = DEFAULT_RATE, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if default_rate <= 0:
            raise ValueError("default_rate must be positive")
        self.default_rate = default_rate
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}  # integration id -> the next free slot (clock seconds)

    def reserve(self, key: str, rate: float | None = None) -> float:
        """Reserve the next slot of `key`; returns seconds to wait for it."""
        now = self._clock()
        slot = max(now, self._next.get(key, now))
        self._next[key] = slot + 1.0 / (rate if rate and rate > 0 else self.default_rate)
        return slot - now

    async def wait(self, key: str, rate: float | None = None) -> None:
        delay = self.reserve(key, rate)
        if delay > 0:
            await self._sleep(delay)

    def pause(self, key: str, seconds: float) -> None:
        """Nothing more for `key` for `seconds` (a rate-limit answer)."""
        until = self._clock() + max(seconds, 0.0)
        self._next[key] = max(self._next.get(key, until), until)


__all__ = ["DEFAULT_RATE", "Pacer"]

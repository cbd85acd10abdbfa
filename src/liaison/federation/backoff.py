"""Retry delays for a peer that does not answer: exponential, capped, with full jitter.

Full jitter (a uniform draw between zero and the exponential ceiling) keeps two nodes that
failed at the same moment from retrying in lock-step after an outage.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    base_seconds: float = 0.5
    cap_seconds: float = 60.0

    def ceiling(self, failures: int) -> float:
        """The largest delay after `failures` consecutive failures (failures >= 1)."""
        if failures < 1:
            return 0.0
        # The exponent is bounded so a long outage cannot overflow the float.
        return float(min(self.cap_seconds, self.base_seconds * 2 ** min(failures - 1, 30)))

    def delay(self, failures: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before the next attempt after `failures` consecutive failures."""
        ceiling = self.ceiling(failures)
        draw = (rng or random).uniform(0.0, ceiling)
        # A floor of a tenth of the ceiling keeps a busy retry loop from spinning at zero.
        return max(draw, ceiling / 10)

"""In-process token buckets for pre-login calls (bind codes, face login attempts, help messages).

Per replica: with N replicas behind a load balancer the effective limit is at most N times this,
which still bounds guessing to a rate where an 8-character code space cannot be searched.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field

from proctor_runtime.errors import ResourceExhausted


@dataclass
class RateLimiter:
    per_minute: float
    burst: float = 0.0
    max_keys: int = 100_000
    _buckets: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)

    def check(self, key: str, now: float | None = None, cost: float = 1.0) -> None:
        """Take ``cost`` tokens (one call, or the items of a batch) for ``key`` or raise RESOURCE_EXHAUSTED
        RATE_LIMITED (nothing taken)."""
        current = time.monotonic() if now is None else now
        capacity = self.burst or self.per_minute
        rate = self.per_minute / 60.0
        tokens, last = self._buckets.pop(key, (capacity, current))
        tokens = min(capacity, tokens + (current - last) * rate)
        if tokens < cost:
            self._buckets[key] = (tokens, current)
            retry_ms = int((cost - tokens) / rate * 1000)
            raise ResourceExhausted("RATE_LIMITED", f"too many attempts; retry in {retry_ms // 1000 + 1} s",
                                    f"操作过于频繁，请 {retry_ms // 1000 + 1} 秒后重试",
                                    {"retry_after_ms": str(retry_ms)})
        self._buckets[key] = (tokens - cost, current)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)

"""Token buckets: a burst allowance refilled at a steady rate.

Used per connection for events, and per address hash for connections and logins."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass
class Bucket:
    rate: float
    burst: float
    tokens: float
    stamp: float

    def take(self, now: float, cost: float = 1.0) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False


class KeyedBuckets:
    """Buckets by key, bounded in number (the least recently used are forgotten)."""

    def __init__(self, rate: float, burst: float, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    def take(self, key: str, now: float, cost: float = 1.0) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = Bucket(self.rate, self.burst, self.burst, now)
            self._buckets[key] = bucket
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket.take(now, cost)

    def allows(self, key: str, now: float, cost: float = 1.0) -> bool:
        """Whether `take` would succeed now, without taking anything."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return cost <= self.burst
        return min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate) >= cost

    def forget(self, key: str) -> None:
        self._buckets.pop(key, None)

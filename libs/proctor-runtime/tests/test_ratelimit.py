import pytest

from proctor_runtime.errors import ResourceExhausted
from proctor_runtime.ratelimit import RateLimiter


def test_bucket_allows_the_burst_then_refuses_then_refills():
    limiter = RateLimiter(per_minute=6)
    for _ in range(6):
        limiter.check("peer-a", now=100.0)
    with pytest.raises(ResourceExhausted) as err:
        limiter.check("peer-a", now=100.0)
    assert err.value.reason == "RATE_LIMITED"
    assert int(err.value.metadata["retry_after_ms"]) == 10_000
    limiter.check("peer-b", now=100.0)  # other keys are independent
    limiter.check("peer-a", now=110.0)  # one token back after 10 s


def test_key_table_is_bounded():
    limiter = RateLimiter(per_minute=1, max_keys=10)
    for i in range(100):
        limiter.check(f"k{i}", now=0.0)
    assert len(limiter._buckets) == 10


def test_a_batch_takes_as_many_tokens_as_it_has_items_or_none():
    limiter = RateLimiter(per_minute=60, burst=10)
    limiter.check("stream", now=0.0, cost=8)
    with pytest.raises(ResourceExhausted) as err:
        limiter.check("stream", now=0.0, cost=3)  # 2 left: the whole batch is refused, nothing taken
    assert int(err.value.metadata["retry_after_ms"]) == 1_000
    limiter.check("stream", now=0.0, cost=2)
    limiter.check("stream", now=5.0, cost=5)  # 1 token per second came back

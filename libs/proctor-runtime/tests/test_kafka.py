"""The Kafka transport against the real local broker."""

import asyncio
import time
import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition
from google.protobuf.wrappers_pb2 import StringValue

from proctor_runtime.kafka import (
    ConsumerLoop,
    EventProducer,
    PermanentError,
    Record,
    Subscription,
    TransientError,
    dlq_topic,
)

pytestmark = pytest.mark.infra


def read_all(bootstrap: str, topic: str, timeout_s: float = 10.0, expect: int = 1) -> list:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{uuid.uuid4().hex}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    out: list = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and len(out) < expect:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            out.append(msg)
    consumer.close()
    return out


def committed(bootstrap: str, group: str, topic: str, partitions: int) -> list[int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    got = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
    consumer.close()
    return [tp.offset for tp in got]


async def run_until(loop: ConsumerLoop, predicate, timeout_s: float = 30.0) -> None:
    task = asyncio.create_task(loop.run())
    try:
        async with asyncio.timeout(timeout_s):
            while not predicate():
                await asyncio.sleep(0.05)
    finally:
        await loop.stop()
        await task


@pytest.fixture
async def producer(kafka_bootstrap):
    p = EventProducer(kafka_bootstrap, "test")
    yield p
    await p.close()


async def test_send_is_durable_and_keyed_in_order(kafka_bootstrap, new_topic, producer):
    topic = new_topic(partitions=3)
    results = [await producer.send(topic, "cand-7", StringValue(value=f"m{i}")) for i in range(5)]
    assert len({partition for partition, _ in results}) == 1, "one key stays on one partition"
    offsets = [offset for _, offset in results]
    assert offsets == sorted(offsets)
    msgs = read_all(kafka_bootstrap, topic, expect=5)
    assert [StringValue.FromString(m.value()).value for m in msgs] == [f"m{i}" for i in range(5)]
    assert dict(msgs[0].headers())["proctor-type"] == b"google.protobuf.StringValue"


async def test_consumer_handles_commits_and_a_restart_resumes_at_the_commit(
        kafka_bootstrap, new_topic, producer):
    topic = new_topic(partitions=3)
    group = f"g-{uuid.uuid4().hex[:8]}"
    for i in range(30):
        await producer.send(topic, f"cand-{i % 6}", StringValue(value=str(i)))
    seen: list[str] = []

    async def handle(record: Record[StringValue]) -> None:
        seen.append(record.value.value)

    sub = [Subscription(topic, StringValue, handle)]
    first = ConsumerLoop(kafka_bootstrap, group, "test", sub, producer)
    await run_until(first, lambda: len(seen) >= 30)
    assert sorted(seen, key=int) == [str(i) for i in range(30)]
    assert sum(max(o, 0) for o in committed(kafka_bootstrap, group, topic, 3)) == 30

    for i in range(30, 40):
        await producer.send(topic, f"cand-{i % 6}", StringValue(value=str(i)))
    seen.clear()
    second = ConsumerLoop(kafka_bootstrap, group, "test", sub, producer)
    await run_until(second, lambda: len(seen) >= 10)
    await asyncio.sleep(0.5)
    assert sorted(seen, key=int) == [str(i) for i in range(30, 40)], "nothing handled twice"


async def test_offsets_are_committed_periodically_and_when_stopping(kafka_bootstrap, new_topic, producer):
    topic = new_topic(partitions=1)
    group = f"g-{uuid.uuid4().hex[:8]}"
    seen: list[str] = []

    async def handle(record: Record[StringValue]) -> None:
        seen.append(record.value.value)

    sub = [Subscription(topic, StringValue, handle)]
    # a long interval: what is handled waits for the stop to be committed (a crash would re-handle it)
    slow = ConsumerLoop(kafka_bootstrap, group, "test", sub, producer, commit_interval_s=3600)
    task = asyncio.create_task(slow.run())
    await asyncio.wait_for(slow.ready.wait(), 30)
    for i in range(5):
        await producer.send(topic, "cand-1", StringValue(value=str(i)))
    async with asyncio.timeout(30):
        while len(seen) < 5:
            await asyncio.sleep(0.05)
    assert committed(kafka_bootstrap, group, topic, 1)[0] < 0, "handled but not committed yet"
    await slow.stop()
    await task
    assert committed(kafka_bootstrap, group, topic, 1) == [5]
    # a short one: committed while running, without a stop
    await producer.send(topic, "cand-1", StringValue(value="5"))
    quick = ConsumerLoop(kafka_bootstrap, group, "test", sub, producer, commit_interval_s=0.2)
    task = asyncio.create_task(quick.run())
    try:
        async with asyncio.timeout(30):
            while committed(kafka_bootstrap, group, topic, 1) != [6]:
                await asyncio.sleep(0.2)
    finally:
        await quick.stop()
        await task
    assert seen == [str(i) for i in range(6)], "nothing handled twice"


async def test_a_first_topic_is_handled_before_the_others_in_a_batch(kafka_bootstrap, new_topic, producer):
    """Kafka orders nothing across topics: a session event and media fetched together would be handled
    concurrently; a ``first`` subscription's records go before the rest of the batch."""
    media, session = new_topic(partitions=1), new_topic(partitions=1)
    for i in range(3):
        await producer.send(media, "cand-1", StringValue(value=f"m{i}"))
    for i in range(2):
        await producer.send(session, "cand-1", StringValue(value=f"s{i}"))
    batch = read_all(kafka_bootstrap, media, expect=3) + read_all(kafka_bootstrap, session, expect=2)
    assert len(batch) == 5

    async def handled_in_order(first: bool) -> list[str]:
        order: list[str] = []

        async def handle(record: Record[StringValue]) -> None:
            await asyncio.sleep(0)  # the partitions of a group interleave at every await
            order.append(record.value.value)

        loop = ConsumerLoop(kafka_bootstrap, f"g-{uuid.uuid4().hex[:8]}", "test",
                            [Subscription(media, StringValue, handle),
                             Subscription(session, StringValue, handle, first=first)], producer)
        try:
            await loop._handle_batch(batch)
        finally:
            loop._consumer.close()
        return order

    assert await handled_in_order(first=True) == ["s0", "s1", "m0", "m1", "m2"]
    unordered = await handled_in_order(first=False)
    assert sorted(unordered) == ["m0", "m1", "m2", "s0", "s1"] and unordered[0] == "m0"


async def test_poison_message_goes_to_dlq_and_does_not_block_the_partition(
        kafka_bootstrap, new_topic, producer):
    topic = new_topic(partitions=1)
    group = f"g-{uuid.uuid4().hex[:8]}"
    await producer.send_raw(topic, "cand-1", b"\xff\xff not a protobuf")
    await producer.send(topic, "cand-1", StringValue(value="after"))
    seen: list[str] = []

    async def handle(record: Record[StringValue]) -> None:
        seen.append(record.value.value)

    loop = ConsumerLoop(kafka_bootstrap, group, "test",
                        [Subscription(topic, StringValue, handle)], producer)
    await run_until(loop, lambda: seen == ["after"])
    dead = read_all(kafka_bootstrap, dlq_topic(topic))
    assert len(dead) == 1
    headers = dict(dead[0].headers())
    assert dead[0].value() == b"\xff\xff not a protobuf"
    assert b"cannot decode" in headers["dlq-error"]
    assert headers["dlq-topic"] == topic.encode() and headers["dlq-offset"] == b"0"
    assert committed(kafka_bootstrap, group, topic, 1) == [2]


async def test_handler_that_keeps_failing_is_dead_lettered_after_retries(
        kafka_bootstrap, new_topic, producer):
    topic = new_topic(partitions=1)
    attempts: list[str] = []

    async def handle(record: Record[StringValue]) -> None:
        attempts.append(record.value.value)
        if record.value.value == "bad":
            raise ValueError("cannot handle bad")
        if record.value.value == "invalid":
            raise PermanentError("invalid content")

    for value in ("bad", "invalid", "good"):
        await producer.send(topic, "c", StringValue(value=value))
    loop = ConsumerLoop(kafka_bootstrap, f"g-{uuid.uuid4().hex[:8]}", "test",
                        [Subscription(topic, StringValue, handle)], producer,
                        max_attempts=3, backoff_s=0.01)
    await run_until(loop, lambda: "good" in attempts)
    assert attempts == ["bad", "bad", "bad", "invalid", "good"]
    dead = read_all(kafka_bootstrap, dlq_topic(topic), expect=2)
    by_value = {StringValue.FromString(m.value()).value: dict(m.headers()) for m in dead}
    assert set(by_value) == {"bad", "invalid"}
    assert b"ValueError: cannot handle bad" in by_value["bad"]["dlq-error"]
    assert by_value["bad"]["dlq-attempts"] == b"3"
    assert b"invalid content" in by_value["invalid"]["dlq-error"]
    assert by_value["invalid"]["dlq-attempts"] == b"1"


async def test_transient_errors_are_retried_until_success_not_dead_lettered(
        kafka_bootstrap, new_topic, producer):
    topic = new_topic(partitions=1)
    calls = 0

    async def handle(record: Record[StringValue]) -> None:
        nonlocal calls
        calls += 1
        if calls < 8:  # more than max_attempts: transient failures never dead-letter
            raise TransientError("database is restarting")

    await producer.send(topic, "c", StringValue(value="x"))
    group = f"g-{uuid.uuid4().hex[:8]}"
    loop = ConsumerLoop(kafka_bootstrap, group, "test",
                        [Subscription(topic, StringValue, handle)], producer,
                        max_attempts=3, backoff_s=0.01, max_backoff_s=0.02)
    await run_until(loop, lambda: calls >= 8)
    assert read_all(kafka_bootstrap, dlq_topic(topic), timeout_s=2) == []
    assert committed(kafka_bootstrap, group, topic, 1) == [1]


async def test_stop_during_transient_retries_leaves_the_message_uncommitted(
        kafka_bootstrap, new_topic, producer):
    topic = new_topic(partitions=1)
    group = f"g-{uuid.uuid4().hex[:8]}"
    calls = 0

    async def always_down(record: Record[StringValue]) -> None:
        nonlocal calls
        calls += 1
        raise TransientError("down")

    await producer.send(topic, "c", StringValue(value="x"))
    loop = ConsumerLoop(kafka_bootstrap, group, "test",
                        [Subscription(topic, StringValue, always_down)], producer, backoff_s=0.01)
    await run_until(loop, lambda: calls >= 2)
    assert committed(kafka_bootstrap, group, topic, 1)[0] < 0, "not committed: handled after restart"

    handled: list[str] = []

    async def ok(record: Record[StringValue]) -> None:
        handled.append(record.value.value)

    again = ConsumerLoop(kafka_bootstrap, group, "test",
                         [Subscription(topic, StringValue, ok)], producer)
    await run_until(again, lambda: handled == ["x"])


async def test_two_consumers_in_a_group_share_partitions_and_lose_nothing(
        kafka_bootstrap, new_topic, producer):
    topic = new_topic(partitions=4)
    group = f"g-{uuid.uuid4().hex[:8]}"
    seen: dict[str, list[str]] = {"a": [], "b": []}

    def handler(name: str):
        async def handle(record: Record[StringValue]) -> None:
            seen[name].append(record.value.value)
        return handle

    a = ConsumerLoop(kafka_bootstrap, group, "test", [Subscription(topic, StringValue, handler("a"))],
                     producer)
    b = ConsumerLoop(kafka_bootstrap, group, "test", [Subscription(topic, StringValue, handler("b"))],
                     producer)
    tasks = [asyncio.create_task(a.run()), asyncio.create_task(b.run())]
    async with asyncio.timeout(30):
        await a.ready.wait()
        await b.ready.wait()
    for i in range(200):
        await producer.send(topic, f"cand-{i}", StringValue(value=str(i)))
    async with asyncio.timeout(30):
        while len(seen["a"]) + len(seen["b"]) < 200:
            await asyncio.sleep(0.05)
    await a.stop()  # a leaves: its partitions move to b
    for i in range(200, 260):
        await producer.send(topic, f"cand-{i}", StringValue(value=str(i)))
    async with asyncio.timeout(30):
        while len(seen["a"]) + len(seen["b"]) < 260:
            await asyncio.sleep(0.05)
    await b.stop()
    await asyncio.gather(*tasks)
    everything = seen["a"] + seen["b"]
    assert sorted(everything, key=int) == [str(i) for i in range(260)]
    assert seen["a"] and seen["b"], "both members got partitions"

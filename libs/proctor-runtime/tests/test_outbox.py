"""The transactional outbox against real PostgreSQL and Kafka."""

import asyncio
import time
import uuid

import pytest
from confluent_kafka import Consumer
from google.protobuf.wrappers_pb2 import StringValue
from psycopg import AsyncConnection

from proctor_runtime import outbox
from proctor_runtime.db import open_pool
from proctor_runtime.kafka import EventProducer

pytestmark = pytest.mark.infra


def drain(bootstrap: str, topic: str, expect: int, timeout_s: float = 15.0) -> list[str]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"r-{uuid.uuid4().hex}",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    out: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and len(out) < expect:
        msg = consumer.poll(0.3)
        if msg is not None and msg.error() is None:
            out.append(StringValue.FromString(msg.value()).value)
    # a little longer to catch duplicates
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        msg = consumer.poll(0.2)
        if msg is not None and msg.error() is None:
            out.append(StringValue.FromString(msg.value()).value)
    consumer.close()
    return out


@pytest.fixture
async def pool(pg_dsn):
    async with await AsyncConnection.connect(pg_dsn, autocommit=True) as conn:
        await outbox.ensure_schema(conn)
    p = await open_pool(pg_dsn, 1, 4, "outbox-test")
    yield p
    await p.close()


async def test_committed_events_are_published_in_order_and_rolled_back_ones_never(
        pool, kafka_bootstrap, new_topic):
    topic = new_topic(partitions=1)
    producer = EventProducer(kafka_bootstrap, "test")
    async with pool.connection() as conn, conn.transaction():
        for i in range(5):
            await outbox.add(conn, topic, "cand-1", StringValue(value=f"ok-{i}"))
    with pytest.raises(RuntimeError):
        async with pool.connection() as conn, conn.transaction():
            await outbox.add(conn, topic, "cand-1", StringValue(value="rolled-back"))
            raise RuntimeError("the state change failed")
    relay = outbox.OutboxRelay(pool, producer, idle_poll_s=0.1)
    task = asyncio.create_task(relay.run())
    got = await asyncio.to_thread(drain, kafka_bootstrap, topic, 5)
    await relay.stop()
    await task
    await producer.close()
    assert got == [f"ok-{i}" for i in range(5)]
    async with pool.connection() as conn:
        assert (await (await conn.execute("SELECT count(*) FROM outbox")).fetchone())[0] == 0


async def test_events_queued_while_the_relay_was_down_are_published_at_restart(
        pool, kafka_bootstrap, new_topic):
    topic = new_topic(partitions=1)
    async with pool.connection() as conn, conn.transaction():
        await outbox.add_many(conn, [(topic, "c", StringValue(value=str(i))) for i in range(50)])
    producer = EventProducer(kafka_bootstrap, "test")
    relay = outbox.OutboxRelay(pool, producer, batch_size=20, idle_poll_s=0.1)
    task = asyncio.create_task(relay.run())
    got = await asyncio.to_thread(drain, kafka_bootstrap, topic, 50)
    await relay.stop()
    await task
    await producer.close()
    assert got == [str(i) for i in range(50)]
    assert relay.published_total == 50


async def test_two_relays_never_publish_the_same_row_twice(pool, kafka_bootstrap, new_topic):
    topic = new_topic(partitions=1)
    async with pool.connection() as conn, conn.transaction():
        await outbox.add_many(conn, [(topic, "c", StringValue(value=str(i))) for i in range(200)])
    producer = EventProducer(kafka_bootstrap, "test")
    relays = [outbox.OutboxRelay(pool, producer, batch_size=10, idle_poll_s=0.05) for _ in range(2)]
    tasks = [asyncio.create_task(r.run()) for r in relays]
    got = await asyncio.to_thread(drain, kafka_bootstrap, topic, 200)
    for r in relays:
        await r.stop()
    await asyncio.gather(*tasks)
    await producer.close()
    assert got == [str(i) for i in range(200)]


async def test_add_many_writes_in_chunks_and_keeps_the_callers_order(pool, monkeypatch):
    monkeypatch.setattr(outbox, "ADD_CHUNK", 7)
    async with pool.connection() as conn, conn.transaction():
        first = (await (await conn.execute("SELECT coalesce(max(id), 0) FROM outbox")).fetchone())[0]
        await outbox.add_many(conn, [("t-order", f"k{i}", StringValue(value=str(i))) for i in range(20)])
        cur = await conn.execute("SELECT key, payload FROM outbox WHERE id > %s AND topic = 't-order' ORDER BY id",
                                 (first,))
        rows = await cur.fetchall()
        await conn.execute("DELETE FROM outbox WHERE topic = 't-order'")
    assert [k for k, _ in rows] == [f"k{i}" for i in range(20)]
    assert [StringValue.FromString(bytes(p)).value for _, p in rows] == [str(i) for i in range(20)]

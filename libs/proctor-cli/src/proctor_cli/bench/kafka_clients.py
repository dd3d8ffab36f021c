"""Measure the two Python Kafka clients against the real local broker.

Both produce N protobuf-sized messages with ``acks=all`` and idempotence, waiting for every
delivery report, then consume them back in a consumer group with manual commits. Prints one
JSON object per client: messages/s for produce and consume, and CPU seconds per 10k messages.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic


def _topic(bootstrap: str, partitions: int) -> str:
    name = f"bench.kafka-clients.{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(timeout=30)
    return name


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


def _confluent(bootstrap: str, count: int, payload: bytes) -> dict[str, float]:
    topic = _topic(bootstrap, 6)
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                         "acks": "all", "linger.ms": 5})
    delivered = 0

    def on_delivery(err: Any, _msg: Any) -> None:
        nonlocal delivered
        if err is None:
            delivered += 1

    start, cpu0 = time.perf_counter(), _cpu()
    for i in range(count):
        while True:
            try:
                producer.produce(topic, payload, key=f"cand-{i % 1000}", on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    producer.flush(60)
    produce_s, produce_cpu = time.perf_counter() - start, _cpu() - cpu0
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{uuid.uuid4().hex}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    seen = 0
    start, cpu0 = time.perf_counter(), _cpu()
    deadline = time.monotonic() + 120
    while seen < count and time.monotonic() < deadline:
        batch = consumer.consume(500, timeout=1.0)
        seen += sum(1 for m in batch if m.error() is None)
        if batch:
            consumer.commit(asynchronous=False)
    consume_s, consume_cpu = time.perf_counter() - start, _cpu() - cpu0
    consumer.close()
    return _result(count, delivered, seen, produce_s, produce_cpu, consume_s, consume_cpu)


def _kafka_python(bootstrap: str, count: int, payload: bytes) -> dict[str, float]:
    from kafka import KafkaConsumer, KafkaProducer

    topic = _topic(bootstrap, 6)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                             linger_ms=5)
    start, cpu0 = time.perf_counter(), _cpu()
    futures = [producer.send(topic, payload, key=f"cand-{i % 1000}".encode()) for i in range(count)]
    producer.flush(60)
    delivered = sum(1 for f in futures if f.succeeded())
    produce_s, produce_cpu = time.perf_counter() - start, _cpu() - cpu0
    producer.close()
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap,
                             group_id=f"bench-{uuid.uuid4().hex}", enable_auto_commit=False,
                             auto_offset_reset="earliest")
    seen = 0
    start, cpu0 = time.perf_counter(), _cpu()
    deadline = time.monotonic() + 120
    while seen < count and time.monotonic() < deadline:
        batch = consumer.poll(timeout_ms=1000, max_records=500)
        seen += sum(len(records) for records in batch.values())
        if batch:
            consumer.commit()
    consume_s, consume_cpu = time.perf_counter() - start, _cpu() - cpu0
    consumer.close()
    return _result(count, delivered, seen, produce_s, produce_cpu, consume_s, consume_cpu)


def _result(count: int, delivered: int, seen: int, produce_s: float, produce_cpu: float,
            consume_s: float, consume_cpu: float) -> dict[str, float]:
    return {
        "messages": count,
        "delivered": delivered,
        "consumed": seen,
        "produce_msgs_per_s": round(delivered / produce_s),
        "produce_cpu_s_per_10k": round(produce_cpu / count * 10_000, 3),
        "consume_msgs_per_s": round(seen / consume_s),
        "consume_cpu_s_per_10k": round(consume_cpu / count * 10_000, 3),
    }


def run(bootstrap: str, count: int = 50_000, size: int = 300) -> dict[str, Any]:
    payload = os.urandom(size)
    return {
        "benchmark": "kafka-clients",
        "bootstrap": bootstrap,
        "message_bytes": size,
        "confluent_kafka": _confluent(bootstrap, count, payload),
        "kafka_python": _kafka_python(bootstrap, count, payload),
    }

"""Kafka transport on confluent-kafka (librdkafka): an idempotent producer and a consumer loop.

Semantics every service shares (see docs in the README):
- producer: ``enable.idempotence`` with ``acks=all``; ``send`` resolves only when the broker has
  the record on all in-sync replicas; keys are candidate ids so one candidate's events stay in order.
- consumer: auto-commit off; a batch is handled (partitions concurrently, each partition in
  order) and only then committed (handled offsets are committed together at most every
  ``commit_interval_s``, and when the loop stops or partitions are revoked). A message that
  cannot be decoded, or whose handler keeps failing, goes to ``<topic>.dlq`` with the error in
  headers, then its offset is committed: it never blocks the partition and never disappears. A
  ``TransientError`` (a dependency is down) is retried with backoff until it succeeds or the loop
  stops (then it is not committed and is handled again after restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import traceback
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from google.protobuf.message import DecodeError
from google.protobuf.message import Message as ProtoMessage

from proctor_runtime import metrics

log = logging.getLogger(__name__)

M = TypeVar("M", bound=ProtoMessage)
Headers = list[tuple[str, bytes]]


class TransientError(Exception):
    """A dependency is unavailable; the message is fine and must be retried, not dead-lettered."""


class PermanentError(Exception):
    """The message can never be handled (invalid content); dead-letter it at once."""


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


class EventProducer:
    """Idempotent producer; ``await send(...)`` returns once the record is durable."""

    def __init__(self, bootstrap: str, service: str, client_id: str = "",
                 extra: dict[str, Any] | None = None) -> None:
        self.service = service
        config: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "client.id": client_id or service,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 20,
            "compression.type": "lz4",
            "message.timeout.ms": 120_000,
        }
        config.update(extra or {})
        self._producer = Producer(config)
        self._closed = threading.Event()
        self._poller = threading.Thread(target=self._poll, name=f"{service}-producer-poll",
                                        daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        while not self._closed.is_set():
            self._producer.poll(0.1)

    def produce(self, topic: str, key: str, value: bytes, headers: Headers | None = None,
                on_done: Callable[[KafkaError | None, Message], None] | None = None) -> None:
        def delivered(err: KafkaError | None, msg: Message) -> None:
            outcome = "ok" if err is None else "error"
            metrics.KAFKA_PRODUCED.labels(self.service, topic, outcome).inc()
            if on_done is not None:
                on_done(err, msg)

        while True:
            try:
                self._producer.produce(topic, value=value, key=key.encode(), headers=headers or [],
                                       on_delivery=delivered)
                return
            except BufferError:  # local queue full: wait for deliveries to drain it
                time.sleep(0.01)

    async def send(self, topic: str, key: str, message: ProtoMessage,
                   headers: Headers | None = None) -> tuple[int, int]:
        return await self.send_raw(topic, key, message.SerializeToString(),
                                   [*type_headers(message), *(headers or [])])

    async def send_raw(self, topic: str, key: str, value: bytes,
                       headers: Headers | None = None) -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[int, int]] = loop.create_future()

        def done(err: KafkaError | None, msg: Message) -> None:
            def settle() -> None:
                if future.done():
                    return
                if err is not None:
                    future.set_exception(KafkaException(err))
                else:
                    future.set_result((msg.partition() or 0, msg.offset() or 0))
            loop.call_soon_threadsafe(settle)

        self.produce(topic, key, value, headers, done)
        return await future

    async def flush(self, timeout_s: float = 30.0) -> int:
        return await asyncio.to_thread(self._producer.flush, timeout_s)

    async def close(self, timeout_s: float = 30.0) -> None:
        remaining = await self.flush(timeout_s)
        if remaining:
            log.error("producer closed with undelivered messages", extra={"undelivered": remaining})
        self._closed.set()
        await asyncio.to_thread(self._poller.join, 2.0)


def type_headers(message: ProtoMessage) -> Headers:
    return [("content-type", b"application/x-protobuf"),
            ("proctor-type", message.DESCRIPTOR.full_name.encode())]


@dataclass(frozen=True)
class Record(Generic[M]):
    """A decoded Kafka message handed to a handler."""

    topic: str
    partition: int
    offset: int
    key: str
    value: M
    headers: dict[str, bytes]
    timestamp_ms: int


Handler = Callable[[Record[Any]], Awaitable[None]]
BatchHandler = Callable[[list[Record[Any]]], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """``handler`` takes one record. With ``batch_handler`` the topic's records in a consumed batch
    go to it together, each partition's in order (one transaction for many events); when a batch
    fails, its records go one by one to ``handler`` so a poison message is isolated and
    dead-lettered alone. ``first``: in a consumed batch, this topic's records are handled before the
    other topics' (Kafka orders nothing across topics: e.g. a candidate's session event and their media,
    fetched together, would otherwise be handled concurrently)."""

    topic: str
    message_type: type[ProtoMessage]
    handler: Handler
    batch_handler: BatchHandler | None = None
    first: bool = False


@dataclass
class _Outcome:
    commit_offset: int | None = None  # next offset to commit for the partition
    stop: bool = False


@dataclass
class ConsumerLoop:
    """Consume ``subscriptions`` in a consumer group, commit after success, dead-letter poison."""

    bootstrap: str
    group_id: str
    service: str
    subscriptions: Sequence[Subscription]
    producer: EventProducer
    max_attempts: int = 5
    backoff_s: float = 0.2
    max_backoff_s: float = 5.0
    batch_size: int = 200
    # handled offsets are committed at most this often (and when the loop stops or a partition is revoked)
    # instead of one synchronous commit, and one write to __consumer_offsets, per batch (most batches of a
    # live stream are one message). A crash re-handles at most this much input, which the handlers already
    # tolerate (idempotent by event id); 0 = commit after every batch
    commit_interval_s: float = 1.0
    on_assign: Callable[[list[tuple[str, int]]], None] | None = None
    on_revoke: Callable[[list[tuple[str, int]]], None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_topic = {s.topic: s for s in self.subscriptions}
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap,
            "group.id": self.group_id,
            "client.id": f"{self.service}-{self.group_id}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "partition.assignment.strategy": "cooperative-sticky",
            "session.timeout.ms": 10_000,
            "statistics.interval.ms": 5_000,
            "stats_cb": self._stats,
        }
        config.update(self.extra)
        self._consumer = Consumer(config)
        self._pending: dict[tuple[str, int], int] = {}  # handled, not yet committed: next offset per partition
        self._committed_at = time.monotonic()
        self.ready = asyncio.Event()  # set at the first partition assignment
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle -------------------------------------------------------------------------
    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._consumer.subscribe(list(self._by_topic), on_assign=self._assigned,
                                 on_revoke=self._revoked, on_lost=self._revoked)
        try:
            while not self._stopping.is_set():
                batch = await asyncio.to_thread(self._next_batch)
                if batch:
                    await self._handle_batch(batch)
                await self._commit_pending()
        finally:
            with contextlib.suppress(Exception):
                await self._commit_pending(force=True)
            await asyncio.to_thread(self._consumer.close)  # leaves the group cleanly
            self._stopped.set()

    def _next_batch(self) -> list[Message]:
        """Wait (up to 0.25 s) for one message, then take whatever else is already fetched: a lone
        event is handled at once instead of waiting for a batch to fill, a backlog still comes in
        batches."""
        first = self._consumer.consume(1, 0.25)
        if not first or self.batch_size <= 1:
            return first
        return first + self._consumer.consume(self.batch_size - 1, 0)

    async def stop(self) -> None:
        """Stop taking messages; the batch in flight finishes and is committed first."""
        self._stopping.set()
        await self._stopped.wait()

    # --- batches ---------------------------------------------------------------------------
    async def _handle_batch(self, batch: list[Message]) -> None:
        by_partition: dict[tuple[str, int], list[Message]] = defaultdict(list)
        for msg in batch:
            err = msg.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF:
                    log.warning("consumer error", extra={"error": str(err)})
                continue
            by_partition[(msg.topic() or "", msg.partition() or 0)].append(msg)
        first = {key: msgs for key, msgs in by_partition.items() if self._by_topic[key[0]].first}
        rest = {key: msgs for key, msgs in by_partition.items() if key not in first}
        for group in (first, rest):
            if group:
                self._pending.update(await self._handle_group(group))

    async def _handle_group(self, by_partition: dict[tuple[str, int], list[Message]]) -> dict[tuple[str, int], int]:
        """Handle these partitions' records concurrently (each partition's in order); the next offsets."""
        done: dict[tuple[str, int], int] = {}
        # a batch handler gets the whole topic's share of the batch at once (each partition's
        # records in order): one transaction for many partitions, not one per partition
        for topic in {topic for topic, _ in by_partition}:
            sub = self._by_topic[topic]
            parts = [key for key in by_partition if key[0] == topic]
            msgs = [msg for key in parts for msg in by_partition[key]]
            if sub.batch_handler is not None and len(msgs) > 1 and await self._handle_together(sub, msgs):
                for key in parts:
                    done[key] = (by_partition.pop(key)[-1].offset() or 0) + 1
        results = await asyncio.gather(*(self._handle_partition(msgs) for msgs in by_partition.values()))
        for key, outcome in zip(by_partition, results, strict=True):
            if outcome.commit_offset is not None:
                done[key] = outcome.commit_offset
        return done

    async def _commit_pending(self, force: bool = False) -> None:
        """Commit the handled offsets when ``commit_interval_s`` has passed since the last commit (or now)."""
        if not self._pending or (not force and time.monotonic() - self._committed_at < self.commit_interval_s):
            return
        offsets = [TopicPartition(topic, partition, offset) for (topic, partition), offset in self._pending.items()]
        self._pending = {}
        self._committed_at = time.monotonic()
        await asyncio.to_thread(self._commit, offsets)

    def _commit(self, offsets: list[TopicPartition]) -> None:
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            # e.g. the partition was revoked meanwhile: the new owner re-handles from the last
            # commit, and handlers are idempotent by event id.
            log.warning("commit failed", extra={"error": str(exc)})

    async def _handle_partition(self, msgs: list[Message]) -> _Outcome:
        outcome = _Outcome()
        for msg in msgs:
            if not await self._handle_one(msg):
                break  # stopping: leave the rest uncommitted, they are handled after restart
            outcome.commit_offset = (msg.offset() or 0) + 1
        return outcome

    async def _handle_together(self, sub: Subscription, msgs: list[Message]) -> bool:
        """One call of the batch handler for a partition's messages; True when all are done.
        False sends them one by one through ``_handle_one`` (undecodable ones, a failing batch)."""
        assert sub.batch_handler is not None
        try:
            records = [self._decode(sub, msg) for msg in msgs]
        except PermanentError:
            return False
        attempt, delay = 0, self.backoff_s
        while not self._stopping.is_set():
            attempt += 1
            started = time.perf_counter()
            try:
                await sub.batch_handler(records)
            except TransientError as exc:
                log.warning("transient failure of a batch, retrying", extra={
                    "topic": sub.topic, "messages": len(records), "attempt": attempt, "error": str(exc)})
            except Exception as exc:  # noqa: BLE001 - isolated message by message below
                log.warning("batch handler failed; handling its messages one by one", extra={
                    "topic": sub.topic, "messages": len(records), "error": repr(exc)})
                return False
            else:
                metrics.KAFKA_CONSUMED.labels(self.service, sub.topic, "ok").inc(len(records))
                metrics.KAFKA_HANDLE_SECONDS.labels(self.service, sub.topic).observe(
                    (time.perf_counter() - started) / len(records))
                return True
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
            except TimeoutError:
                delay = min(delay * 2, self.max_backoff_s)
        return False

    async def _handle_one(self, msg: Message) -> bool:
        """Handle one message: True once it is done (handled or dead-lettered)."""
        topic = msg.topic() or ""
        sub = self._by_topic[topic]
        try:
            record = self._decode(sub, msg)
        except PermanentError as exc:
            await self._dead_letter(msg, exc, attempts=0)
            return True
        attempt, delay = 0, self.backoff_s
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                await sub.handler(record)
            except TransientError as exc:
                metrics.KAFKA_CONSUMED.labels(self.service, topic, "retried").inc()
                log.warning("transient failure, retrying", extra={
                    "topic": topic, "offset": msg.offset(), "attempt": attempt, "error": str(exc)})
            except PermanentError as exc:
                await self._dead_letter(msg, exc, attempt)
                return True
            except Exception as exc:  # noqa: BLE001 - a handler bug must not kill the loop
                if attempt >= self.max_attempts:
                    await self._dead_letter(msg, exc, attempt)
                    return True
                metrics.KAFKA_CONSUMED.labels(self.service, topic, "retried").inc()
                log.warning("handler failed, retrying", extra={
                    "topic": topic, "offset": msg.offset(), "attempt": attempt, "error": repr(exc)})
            else:
                metrics.KAFKA_CONSUMED.labels(self.service, topic, "ok").inc()
                metrics.KAFKA_HANDLE_SECONDS.labels(self.service, topic).observe(
                    time.perf_counter() - started)
                return True
            if self._stopping.is_set():
                return False
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                return False
            except TimeoutError:
                delay = min(delay * 2, self.max_backoff_s)

    @staticmethod
    def _decode(sub: Subscription, msg: Message) -> Record[Any]:
        raw = msg.value()
        if raw is None:
            raise PermanentError("empty message value (tombstone) on an event topic")
        try:
            value = sub.message_type.FromString(raw)
        except DecodeError as exc:
            raise PermanentError(f"cannot decode {sub.message_type.DESCRIPTOR.full_name}: {exc}") from exc
        headers = {k: (v or b"") for k, v in (msg.headers() or [])}
        key = msg.key() or b""
        return Record(topic=msg.topic() or "", partition=msg.partition() or 0,
                      offset=msg.offset() or 0, key=key.decode(errors="replace"), value=value,
                      headers=headers, timestamp_ms=msg.timestamp()[1])

    async def _dead_letter(self, msg: Message, exc: BaseException, attempts: int) -> None:
        topic = msg.topic() or ""
        error_text = "".join(traceback.format_exception_only(exc)).strip()[:2000]
        headers: Headers = [(k, v or b"") for k, v in (msg.headers() or [])]
        headers += [("dlq-error", error_text.encode()), ("dlq-topic", topic.encode()),
                    ("dlq-partition", str(msg.partition()).encode()),
                    ("dlq-offset", str(msg.offset()).encode()),
                    ("dlq-group", self.group_id.encode()),
                    ("dlq-attempts", str(attempts).encode())]
        key = (msg.key() or b"").decode(errors="replace")
        # awaited: the offset is committed only after the DLQ has the message
        await self.producer.send_raw(dlq_topic(topic), key, msg.value() or b"", headers)
        metrics.KAFKA_CONSUMED.labels(self.service, topic, "dead_lettered").inc()
        log.error("message dead-lettered", extra={
            "topic": topic, "partition": msg.partition(), "offset": msg.offset(),
            "error": error_text, "attempts": attempts})

    # --- callbacks (run inside consume(), in the consumer's worker thread) ------------------
    def _assigned(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        metrics.KAFKA_REBALANCES.labels(self.service, "assigned").inc()
        if self.on_assign:
            self.on_assign([(tp.topic, tp.partition) for tp in partitions])
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.ready.set)

    def _revoked(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Called inside ``consume`` (no batch is being handled then): what was handled of the partitions
        leaving is committed before the new owner takes them."""
        metrics.KAFKA_REBALANCES.labels(self.service, "revoked").inc()
        leaving = [TopicPartition(tp.topic, tp.partition, self._pending.pop((tp.topic, tp.partition)))
                   for tp in partitions if (tp.topic, tp.partition) in self._pending]
        if leaving:
            self._commit(leaving)
        if self.on_revoke:
            self.on_revoke([(tp.topic, tp.partition) for tp in partitions])

    def _stats(self, raw: str) -> None:
        try:
            stats = json.loads(raw)
        except ValueError:
            return
        for topic, data in stats.get("topics", {}).items():
            for partition, pdata in data.get("partitions", {}).items():
                lag = pdata.get("consumer_lag", -1)
                if partition != "-1" and lag >= 0:
                    metrics.KAFKA_LAG.labels(self.service, topic, partition).set(lag)



_COORDINATOR_STARTING = (KafkaError.COORDINATOR_LOAD_IN_PROGRESS, KafkaError.COORDINATOR_NOT_AVAILABLE,
                         KafkaError.NOT_COORDINATOR)


def start_group_at_end(bootstrap: str, group_id: str, topics: list[str]) -> None:
    """Commit a new consumer group's offsets at the current end of ``topics``: a consumer started with
    that group sees exactly the messages produced from now on, none from before and none skipped
    (``auto.offset.reset=latest`` races with the first fetch). Used by tests, benchmarks and the demo,
    whose services must not replay the local broker's history."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False})
    try:
        offsets = []
        metadata = consumer.list_topics(timeout=10)
        for topic in topics:
            for partition in metadata.topics[topic].partitions:
                offsets.append(TopicPartition(topic, partition, _high_watermark(consumer, topic, partition)))
        deadline = time.monotonic() + 30.0
        while True:  # a broker that has just started answers COORDINATOR_LOAD_IN_PROGRESS for a while
            try:
                consumer.commit(offsets=offsets, asynchronous=False)
                return
            except KafkaException as exc:
                error = exc.args[0]
                waiting = error.retriable() or error.code() in _COORDINATOR_STARTING
                if not waiting or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        consumer.close()


def _high_watermark(consumer: Consumer, topic: str, partition: int, wait_s: float = 30.0) -> int:
    """The partition's end offset; a broker that has just started (or a topic just created) answers
    NOT_LEADER_FOR_PARTITION until leaders are elected, so retry for a while."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            return int(high)
        except KafkaException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)

"""Transactional outbox: events written in the same PostgreSQL transaction as the state change.

A state change and the event announcing it commit together (``add`` inside the caller's
transaction), so a crash can never keep one and lose the other. ``OutboxRelay`` publishes
pending rows to Kafka in commit order and marks them published; after a crash it resumes with
whatever is still pending (consumers deduplicate by the event id). ``wake()`` after a commit
makes publication immediate; a slow poll covers other replicas' rows and restarts.

Order: rows are published in id order. Callers add their outbox rows *after* taking the row
lock of the entity they change (the candidate row), so one entity's events get increasing ids
in commit order and stay in order on its Kafka partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from google.protobuf.message import Message as ProtoMessage
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from proctor_runtime.db import Migration, migrate
from proctor_runtime.kafka import EventProducer
from proctor_runtime.topics import AUDIT

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    topic text NOT NULL,
    key text NOT NULL,
    payload bytea NOT NULL,
    proto_type text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""


MIGRATIONS = [Migration(1, "outbox_001_create.sql", SCHEMA)]


async def ensure_schema(conn: AsyncConnection) -> None:
    """Create the outbox table (a versioned migration of its own, shared by the services)."""
    await migrate(conn, "outbox", MIGRATIONS)


@dataclass
class Tx:
    """One transaction: its connection, and the events to queue in the outbox when it commits."""

    conn: AsyncConnection
    rows: list[tuple[str, str, ProtoMessage]] = field(default_factory=list)

    def emit(self, topic: str, key: str, message: ProtoMessage) -> None:
        self.rows.append((topic, key, message))

    def audit(self, message: ProtoMessage, key: str) -> None:
        """Queue an ``AuditEvent`` on the audit topic (keyed by candidate, else actor)."""
        self.emit(AUDIT.name, key, message)


@asynccontextmanager
async def transaction(pool: AsyncConnectionPool, relay: OutboxRelay | None = None) -> AsyncIterator[Tx]:
    """A transaction whose emitted events are written to the outbox in the same commit; the relay is
    woken after the commit so they are published at once."""
    async with pool.connection() as conn:
        async with conn.transaction():
            t = Tx(conn)
            yield t
            if t.rows:
                await add_many(conn, t.rows)
        if t.rows and relay is not None:
            relay.wake()


async def add(conn: AsyncConnection, topic: str, key: str, message: ProtoMessage) -> None:
    """Queue an event inside the caller's transaction."""
    await add_many(conn, [(topic, key, message)])


ADD_CHUNK = 1000


def _insert_rows_sql(count: int) -> str:
    return "INSERT INTO outbox (topic, key, payload, proto_type) VALUES " + ", ".join(
        ["(%s, %s, %s, %s)"] * count)


async def add_many(conn: AsyncConnection, rows: Sequence[tuple[str, str, ProtoMessage]]) -> None:
    """Queue events in one statement (one round trip); ids, hence publication order, follow ``rows``."""
    for start in range(0, len(rows), ADD_CHUNK):  # PostgreSQL takes at most 65,535 parameters
        chunk = rows[start:start + ADD_CHUNK]
        params: list[object] = []
        for topic, key, message in chunk:
            params += (topic, key, message.SerializeToString(), message.DESCRIPTOR.full_name)
        await conn.execute(_insert_rows_sql(len(chunk)), params)


@dataclass
class OutboxRelay:
    pool: AsyncConnectionPool
    producer: EventProducer
    batch_size: int = 500
    idle_poll_s: float = 1.0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: bool = False
    published_total: int = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            try:
                sent = await self.publish_pending()
            except Exception:
                log.exception("outbox relay failed; retrying")
                sent = 0
                await asyncio.sleep(self.idle_poll_s)
            if sent == 0 and not self._stopping:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.idle_poll_s)

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Publish what is pending (best effort, bounded), then stop. Rows left over stay in the
        table and are published at the next start: nothing is lost."""
        self._stopping = True
        self._wake.set()

        async def drain() -> None:
            while await self.publish_pending():
                pass

        try:
            await asyncio.wait_for(drain(), timeout_s)
        except Exception:  # noqa: BLE001 - left for the next start, nothing is lost
            log.warning("outbox not drained at shutdown; it resumes at the next start")

    async def publish_pending(self) -> int:
        """Publish one batch in commit order; returns how many rows were published."""
        async with self.pool.connection() as conn, conn.transaction():
            # one relay at a time across replicas, without blocking request handlers
            cur = await conn.execute("SELECT pg_try_advisory_xact_lock(7011)")
            row = await cur.fetchone()
            if not row or not row[0]:
                return 0
            cur = await conn.execute(
                "SELECT id, topic, key, payload, proto_type FROM outbox ORDER BY id LIMIT %s",
                (self.batch_size,))
            rows = await cur.fetchall()
            if not rows:
                return 0
            futures = [self.producer.send_raw(
                topic, key, bytes(payload),
                [("content-type", b"application/x-protobuf"), ("proctor-type", proto.encode())])
                for _id, topic, key, payload, proto in rows]
            await asyncio.gather(*futures)
            # exact ids: a row with a lower id may commit later and must not be skipped
            await conn.execute("DELETE FROM outbox WHERE id = ANY(%s)", ([r[0] for r in rows],))
        self.published_total += len(rows)
        return len(rows)


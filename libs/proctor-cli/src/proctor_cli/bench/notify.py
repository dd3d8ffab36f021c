"""``proctor bench notify``: incident events on Kafka -> delivered on proctor streams, with many
proctors subscribed, through the real notify process, PostgreSQL and Kafka.

A sitting of ``rooms`` rooms is imported (REGISTERED session events), ``subscribers`` proctor streams
are opened (each room watched by subscribers/rooms proctors), then ``rate`` incidents per second are
produced for ``seconds`` seconds, each for a random candidate. Every incident must reach every
proctor of its room exactly once.

incidents_per_s     incidents produced per second of the run (produced / wall time until the last
                    one was delivered everywhere)
delivery_p50/p99_ms the incident event handed to the Kafka producer -> received by a proctor stream
                    (client clock = server clock: same machine), over every (incident, proctor)
lost / duplicated   (incident, proctor) pairs never delivered / delivered more than once
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from confluent_kafka import Producer
from psycopg import AsyncConnection

from proctor.common.v1 import common_pb2 as c
from proctor.events.v1 import incident_pb2, session_pb2
from proctor.notify.v1 import notify_pb2 as pb
from proctor.notify.v1 import notify_pb2_grpc
from proctor_cli.bench.common import bearer, postgres_cpu
from proctor_cli.local import LocalStack
from proctor_runtime.devinfra import InfraSettings, PostgresCluster
from proctor_runtime.devinfra.keys import keyring
from proctor_runtime.events import meta, ts
from proctor_runtime.kafka import start_group_at_end, type_headers
from proctor_runtime.tokens import Role, TokenSigner
from proctor_runtime.topics import HELP_MESSAGES, INCIDENTS, MEDIA_STREAMS, NOTIFICATIONS, SESSION_EVENTS

CONSUMED = [INCIDENTS.name, SESSION_EVENTS.name, HELP_MESSAGES.name, NOTIFICATIONS.name, MEDIA_STREAMS.name]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(subscribers: int = 500, rooms: int = 250, per_room: int = 20, rate: float = 1000.0,
              seconds: float = 10.0) -> dict[str, Any]:
    infra = InfraSettings()
    run_id = uuid.uuid4().hex[:8]
    database = f"proctor_bench_{run_id}_notify"
    group = f"notify-bench-{run_id}"
    start_group_at_end(infra.kafka_bootstrap, group, CONSUMED)
    stack = LocalStack(infra, service_env={"notify": {"KAFKA_GROUP_ID": group, "LOG_LEVEL": "WARNING",
                                                      "HTTP_PORT": "-1", "MAX_SUBSCRIPTIONS": "100000"}},
                       databases={"notify": database})
    try:
        service = await stack.start("notify")
        return await _drive(infra, service, database, subscribers, rooms, per_room, rate, seconds)
    finally:
        await stack.stop()
        PostgresCluster(infra).psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def _drive(infra: InfraSettings, service: Any, database: str, subscribers: int, rooms: int, per_room: int,
                 rate: float, seconds: float) -> dict[str, Any]:
    sitting = f"bench-notify-{uuid.uuid4().hex[:6]}"
    room_ids = [f"R{r:04d}" for r in range(rooms)]
    candidates = {f"c{r:04d}-{n:03d}": room for r, room in enumerate(room_ids) for n in range(per_room)}
    producer = Producer({"bootstrap.servers": infra.kafka_bootstrap, "linger.ms": 5, "enable.idempotence": True,
                         "acks": "all", "compression.type": "lz4"})
    now = datetime.now(UTC)
    for version, (cid, room) in enumerate(candidates.items(), start=1):
        event = session_pb2.SessionEvent(
            meta=meta(sitting_id=sitting, candidate_id=cid, producer="bench", event_time=now),
            kind=session_pb2.SESSION_EVENT_KIND_TRANSITION, to_state=c.CANDIDATE_STATE_REGISTERED,
            reason="IMPORTED", room_id=room, display_name=cid, state_version=version)
        producer.produce(SESSION_EVENTS.name, event.SerializeToString(), cid, headers=type_headers(event))
        producer.poll(0)
    producer.flush(60)
    dsn = infra.pg_dsn_for(database)
    async with await AsyncConnection.connect(dsn) as conn:
        deadline = time.monotonic() + 120
        while True:
            cur = await conn.execute("SELECT count(*) FROM roster WHERE sitting_id = %s", (sitting,))
            if (await cur.fetchone() or (0,))[0] >= len(candidates) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)

    admin = TokenSigner(keyring(infra).signing["admin"])
    watchers_per_room = max(1, subscribers // rooms)
    received: dict[str, list[float]] = {}  # incident id -> receive times (one per delivery)
    appended: dict[str, float] = {}  # incident id -> when notify persisted it (feed item's appended_at)
    by_sub: Counter[tuple[int, str]] = Counter()
    produced_at: dict[str, float] = {}
    room_of: dict[str, str] = {}
    errors: list[str] = []
    opened = delivered = 0
    expected = 0
    all_open, all_delivered = asyncio.Event(), asyncio.Event()

    async def watch(index: int, room: str, channel: grpc.aio.Channel) -> None:
        nonlocal opened, delivered
        md = bearer(admin.issue(sub=f"p{index}", role=Role.PROCTOR, ttl_s=3600, sitting_id=sitting,
                                rooms=(room,))[0])
        call = notify_pb2_grpc.NotifyStub(channel).SubscribeIncidents(pb.SubscribeIncidentsRequest(
            sitting_id=sitting, start=pb.FEED_START_NOW, kinds=[pb.FEED_ITEM_KIND_INCIDENT]), metadata=md)
        first = True
        try:
            async for item in call:
                if first:
                    first = False
                    opened += 1
                    if opened == n_subs:
                        all_open.set()
                if item.WhichOneof("item") != "incident":
                    continue
                t = time.time()
                iid = item.incident.incident.incident.incident_id
                received.setdefault(iid, []).append(t)
                appended.setdefault(iid, item.appended_at.ToMilliseconds() / 1000)
                by_sub[(index, iid)] += 1
                delivered += 1
                if expected and delivered >= expected:
                    all_delivered.set()
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                errors.append(f"{exc.code().name}: {exc.details()}")

    n_subs = watchers_per_room * rooms
    # several connections, as many browsers/consoles would have; streams share them
    channels = [grpc.aio.insecure_channel(service.target) for _ in range(8)]
    tasks = [asyncio.create_task(watch(i, room_ids[i % rooms], channels[i % len(channels)]))
             for i in range(n_subs)]
    # a stream's first item is a keepalive (START_NOW): wait until every stream has one
    async with asyncio.timeout(120):
        await all_open.wait()

    total = int(rate * seconds)
    expected = total * watchers_per_room
    cids = list(candidates)
    rng = random.Random(7)
    cpu0, pg0 = service.cpu_seconds(), postgres_cpu()

    # the events are built before the clock starts: the bench client shares the 2 cores with notify
    events: list[tuple[str, str, bytes, list[tuple[str, bytes]]]] = []
    at = datetime.now(UTC)
    for n in range(total):
        cid = rng.choice(cids)
        iid = f"{sitting}:{n}"
        incident = c.Incident(
            incident_id=iid, sitting_id=sitting, candidate_id=cid, room_id=candidates[cid], attempt_number=1,
            kind=c.INCIDENT_KIND_GAZE_AWAY, severity=c.SEVERITY_MEDIUM, confidence=0.8,
            start_time=ts(at - timedelta(seconds=2)), detected_at=ts(at), detector="bench@1",
            source=c.INCIDENT_SOURCE_DETECTOR, summary=c.LocalizedText(en="looking away", zh="视线离开屏幕"),
            evidence=[c.Evidence(thumbnail_uri=f"file:///bench/{n}.jpg", stream_id=f"{cid}-cam",
                                 stream_kind=c.STREAM_KIND_DESKTOP_CAMERA, captured_at=ts(at))])
        event = incident_pb2.IncidentEvent(
            meta=meta(sitting_id=sitting, candidate_id=cid, producer="bench", event_time=at, event_id=f"{iid}:1"),
            change=incident_pb2.INCIDENT_CHANGE_OPENED, incident=incident, revision=1)
        room_of[iid] = candidates[cid]
        events.append((iid, cid, event.SerializeToString(), type_headers(event)))
    client_cpu0 = time.process_time()
    started = time.time()

    def produce_all() -> None:
        for n, (iid, cid, value, headers) in enumerate(events):
            delay = started + n / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            produced_at[iid] = time.time()
            producer.produce(INCIDENTS.name, value, cid, headers=headers)
            producer.poll(0)
        producer.flush(60)

    thread = threading.Thread(target=produce_all, daemon=True)
    thread.start()
    await asyncio.to_thread(thread.join)
    try:
        async with asyncio.timeout(60):
            await all_delivered.wait()
    except TimeoutError:
        pass  # counted as lost below
    finished = max((max(v) for v in received.values()), default=time.time())
    await asyncio.sleep(1.0)  # late duplicates would show up here
    cpu, pg = service.cpu_seconds() - cpu0, postgres_cpu() - pg0
    client_cpu = time.process_time() - client_cpu0
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for channel in channels:
        await channel.close()

    latencies = [(t - produced_at[iid]) * 1000 for iid, times in received.items() for t in times
                 if iid in produced_at]
    to_append = [(appended[iid] - produced_at[iid]) * 1000 for iid in appended if iid in produced_at]
    delivered_pairs = len(by_sub)
    duplicated = sum(n - 1 for n in by_sub.values() if n > 1)
    wall = max(finished - started, 1e-9)
    return {
        "benchmark": "notify",
        "subscribers": n_subs,
        "rooms": rooms,
        "candidates": len(candidates),
        "incidents": total,
        "target_rate_per_s": rate,
        "incidents_per_s": round(total / wall, 1),
        "deliveries": sum(by_sub.values()),
        "delivery_p50_ms": round(_pct(latencies, 0.50), 1),
        "delivery_p99_ms": round(_pct(latencies, 0.99), 1),
        "delivery_max_ms": round(max(latencies, default=0.0), 1),
        # where the time goes: produced -> persisted in notify's feed (Kafka + consume + transaction)
        "produce_to_persisted_p50_ms": round(_pct(to_append, 0.50), 1),
        "produce_to_persisted_p99_ms": round(_pct(to_append, 0.99), 1),
        "lost": expected - delivered_pairs,
        "duplicated": duplicated,
        "stream_errors": errors[:5],
        "notify_cpu_s": round(cpu, 1),
        "postgres_cpu_s": round(pg, 1),
        "bench_client_cpu_s": round(client_cpu, 1),
        "wall_s": round(wall, 1),
    }

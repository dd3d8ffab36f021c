"""Wiring: build(settings) -> a ServiceHost (health + metrics; no public RPCs) running the anomaly
consumer. The model pack is loaded and warmed (``load_pack``) before the host serves anything."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable

from anomaly.config import Settings
from anomaly.identity import AuthFaceClient
from anomaly.state import SnapshotStore
from anomaly.tracker import CandidateTracker
from anomaly.worker import Anomaly
from proctor_faces import FacesSettings, ModelPack, load_pack
from proctor_runtime.identity import ServiceIdentity
from proctor_runtime.kafka import ConsumerLoop, EventProducer
from proctor_runtime.service import ServiceHost
from proctor_storage import SegmentStore, open_store

HEALTH_NAME = "proctor.anomaly.v1.Anomaly"
log = logging.getLogger(__name__)


async def build(settings: Settings, objects: SegmentStore | None = None,
                loader: Callable[[FacesSettings], ModelPack] = load_pack, with_auth: bool = True) -> ServiceHost:
    host = ServiceHost(settings, [HEALTH_NAME])
    producer = EventProducer(settings.kafka_bootstrap, settings.service_name, settings.kafka_client_id)
    host.producers.append(producer)
    auth = None
    if with_auth:
        identity = ServiceIdentity(settings.service_name, settings.token_signing_key.get_secret_value(),
                                   settings.service_token.get_secret_value())
        auth = AuthFaceClient(settings.auth_face_target, identity, settings.auth_face_timeout_s)
    pack = loader(settings.faces)  # load_pack also warms it, once
    anomaly = Anomaly(settings, objects or open_store(settings.storage), pack, producer, auth,
                      SnapshotStore(settings.kafka_bootstrap),
                      functools.partial(CandidateTracker.create, settings=settings.detectors,
                                        sample_period=1.0 / settings.sample_rate),
                      functools.partial(CandidateTracker.restore, settings=settings.detectors,
                                        sample_period=1.0 / settings.sample_rate))
    loop = ConsumerLoop(settings.kafka_bootstrap, settings.kafka_group_id, settings.service_name,
                        anomaly.subscriptions(), producer, max_attempts=settings.kafka_handler_retries,
                        batch_size=settings.kafka_batch_size,
                        on_revoke=anomaly.revoked,
                        # range: partition p of every input topic goes to the same worker (co-partitioned
                        # by candidate id), so one tracker sees a candidate's segments and telemetry
                        extra={"auto.offset.reset": settings.kafka_offset_reset,
                               "partition.assignment.strategy": "range",
                               # the stills come every few ms: the broker holds a fetch (config.py's
                               # KAFKA_FETCH_MIN_BYTES / _WAIT_MS) rather than answering at the first record
                               "fetch.min.bytes": settings.kafka_fetch_min_bytes,
                               "fetch.wait.max.ms": settings.kafka_fetch_wait_ms})
    host.consumers.append(loop)

    tasks: list[asyncio.Task[None]] = []

    async def evict() -> None:
        while True:
            await asyncio.sleep(settings.evict_interval_s)
            anomaly.evict(settings.evict_idle_s, settings.forget_ended_s)

    async def close_idle() -> None:
        while True:
            await asyncio.sleep(settings.close_check_interval_s)
            try:
                await anomaly.close_idle(settings.close_idle_s)
            except Exception:
                log.exception("closing ended candidates failed; retried at the next check")

    async def start() -> None:
        anomaly.loop = asyncio.get_running_loop()
        tasks.append(asyncio.create_task(evict(), name="evict"))
        tasks.append(asyncio.create_task(close_idle(), name="close-idle"))

    async def stop() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await anomaly.close()

    host.start_hooks.append(start)
    host.stop_hooks.append(stop)
    host.logic = anomaly  # type: ignore[attr-defined]  # for tests
    return host

"""The host every service runs in: gRPC server, health, reflection, metrics, consumers, shutdown.

Start order: metrics endpoint and gRPC server up with health NOT_SERVING; start-up hooks
(migrations, model warm-up, dependency checks); consumers started; health SERVING.
SIGTERM order (house style): health NOT_SERVING; drain hooks (front doors that call this server);
consumers stop taking work, finish and commit the batch in flight; the gRPC server stops with a
grace period; stop hooks drain outboxes and close pools; producers flush last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from proctor_runtime import metrics
from proctor_runtime.interceptor import ServiceInterceptor
from proctor_runtime.kafka import ConsumerLoop, EventProducer
from proctor_runtime.settings import BaseServiceSettings
from proctor_runtime.tokens import TokenVerifier

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]
GRPC_OPTIONS = [
    ("grpc.max_receive_message_length", 8 * 1024 * 1024),
    ("grpc.max_send_message_length", 8 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.keepalive_permit_without_calls", 1),
]


@dataclass
class ServiceHost:
    settings: BaseServiceSettings
    grpc_services: Collection[str]  # full names, e.g. "proctor.exam.v1.ExamSession"
    public_methods: Collection[str] = ()
    clock: Callable[[], float] = time.time  # token expiry is checked against this clock
    server: grpc.aio.Server = field(init=False)
    health: health.aio.HealthServicer = field(init=False)
    port: int = field(init=False, default=0)
    metrics_port: int = field(init=False, default=0)
    producers: list[EventProducer] = field(default_factory=list)
    consumers: list[ConsumerLoop] = field(default_factory=list)
    start_hooks: list[Hook] = field(default_factory=list)
    stop_hooks: list[Hook] = field(default_factory=list)
    # run first at shutdown, while the gRPC server still serves: front doors that depend on it
    # (notify's console) close their connections cleanly so clients reconnect elsewhere
    drain_hooks: list[Hook] = field(default_factory=list)

    def __post_init__(self) -> None:
        verifier = TokenVerifier.from_setting(self.settings.token_public_keys, self.clock)
        self.interceptor = ServiceInterceptor(self.settings.service_name, verifier,
                                              self.public_methods)
        self.server = grpc.aio.server(interceptors=[self.interceptor], options=GRPC_OPTIONS)
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        names = [*self.grpc_services, health.SERVICE_NAME, reflection.SERVICE_NAME]
        reflection.enable_server_reflection(names, self.server)
        self._consumer_tasks: list[asyncio.Task[None]] = []
        self._metrics_server: Any = None
        self._stop = asyncio.Event()

    def add_servicer(self, register: Callable[[Any, grpc.aio.Server], None], servicer: Any) -> None:
        register(servicer, self.server)

    async def _set_health(self, status: health_pb2.HealthCheckResponse.ServingStatus.ValueType) -> None:
        for name in ("", *self.grpc_services):
            await self.health.set(name, status)
        metrics.SERVICE_READY.labels(self.settings.service_name).set(
            1 if status == health_pb2.HealthCheckResponse.SERVING else 0)

    async def start(self) -> None:
        s = self.settings
        self._metrics_server = metrics.start_metrics_server(s.metrics_host, s.metrics_port)
        self.metrics_port = int(self._metrics_server.server_port)
        self.port = self.server.add_insecure_port(f"{s.grpc_host}:{s.grpc_port}")
        if self.port == 0:
            raise RuntimeError(f"cannot bind gRPC port {s.grpc_host}:{s.grpc_port}")
        await self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.start()
        log.info("grpc listening; starting dependencies", extra={
            "grpc_port": self.port, "metrics_port": self.metrics_port})
        for hook in self.start_hooks:
            await hook()
        for consumer in self.consumers:
            self._consumer_tasks.append(asyncio.create_task(consumer.run(),
                                                            name=f"consumer-{consumer.group_id}"))
        await self._set_health(health_pb2.HealthCheckResponse.SERVING)
        log.info("serving", extra={"grpc_port": self.port})

    async def stop(self) -> None:
        log.info("shutting down")
        await self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        for hook in self.drain_hooks:
            try:
                await hook()
            except Exception:
                log.exception("drain hook failed")
        await asyncio.gather(*(c.stop() for c in self.consumers), return_exceptions=True)
        for task in self._consumer_tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.server.stop(self.settings.shutdown_grace_s)
        # stop hooks run while producers are still open: they drain outboxes before pools close
        for hook in reversed(self.stop_hooks):
            try:
                await hook()
            except Exception:
                log.exception("stop hook failed")
        for producer in self.producers:
            await producer.close()
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
            self._metrics_server.server_close()
        log.info("stopped")

    def request_stop(self) -> None:
        self._stop.set()

    async def run_until_stopped(self, signals: Iterable[int] = (signal.SIGTERM, signal.SIGINT)) -> None:
        loop = asyncio.get_running_loop()
        for sig in signals:
            loop.add_signal_handler(sig, self.request_stop)
        await self.start()
        stop_wait = asyncio.create_task(self._stop.wait())
        done, _ = await asyncio.wait([stop_wait, *self._consumer_tasks],
                                     return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stop_wait and not task.cancelled() and task.exception() is not None:
                log.error("a consumer loop died; shutting down", exc_info=task.exception())
        stop_wait.cancel()
        await self.stop()


def run_service(build: Callable[[], Awaitable[ServiceHost]]) -> None:
    """Entry point body for ``__main__``: build the host, serve until SIGTERM."""

    async def main() -> None:
        host = await build()
        await host.run_until_stopped()

    asyncio.run(main())


def service_main(settings_type: Callable[[], BaseServiceSettings],
                 build: Callable[[Any], Awaitable[ServiceHost]]) -> None:
    """The whole ``__main__`` of a service: settings from the environment -> JSON logging -> one
    start-up line with the masked configuration -> serve until SIGTERM."""
    from proctor_runtime.logs import configure_logging

    settings = settings_type()
    configure_logging(settings.service_name, settings.log_level)
    logging.getLogger(settings.service_name).info("starting", extra={"config": settings.masked()})
    run_service(lambda: build(settings))

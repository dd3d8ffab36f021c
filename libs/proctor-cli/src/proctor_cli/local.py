"""Run the services locally as real processes (what ``scripts/demo``, the benchmarks and the
end-to-end tests use): fixed ports from a base, per-service databases, the dev keyring, health
checks over gRPC, SIGTERM to stop."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from proctor_runtime.devinfra import InfraError, InfraSettings, PostgresCluster
from proctor_runtime.devinfra.keys import keyring

# service -> (python module, env prefix, gRPC service name, port offset)
SERVICES: dict[str, tuple[str, str, str, int]] = {
    "exam-session": ("exam_session", "EXAM_SESSION_", "proctor.exam.v1.ExamSession", 10),
    "auth-face": ("auth_face", "AUTH_FACE_", "proctor.auth.v1.AuthFace", 20),
    "media-ingest": ("media_ingest", "MEDIA_INGEST_", "proctor.media.v1.MediaIngest", 30),
    "media-worker": ("media_ingest.processing", "MEDIA_WORKER_", "proctor.media.v1.MediaWorker", 40),
    "anomaly": ("anomaly", "ANOMALY_", "proctor.anomaly.v1.Anomaly", 50),
    "notify": ("notify", "NOTIFY_", "proctor.notify.v1.Notify", 60),  # console HTTP at offset + 2
}
# database per service when not given (the worker keeps its results beside the upload server's)
DATABASE = {"media-worker": "proctor_media_ingest"}
STATELESS = {"anomaly"}  # no database of its own (its state is a compacted Kafka topic)
# CPU priority (nice) per service on one machine: the media worker prepares review recordings, nothing
# waits for it within seconds, and every 10-s segment boundary brings all candidates' segments at once;
# at normal priority those bursts took the cores from the incident path (stills into media-ingest,
# anomaly, notify). In Kubernetes the worker has pods of its own.
NICE = {"media-worker": 10}


def port_base() -> int:
    return int(os.environ.get("PROCTOR_SERVICE_PORT_BASE", "17000"))


@dataclass
class LocalService:
    name: str
    grpc_port: int
    metrics_port: int
    process: subprocess.Popen[bytes]
    log_file: Path

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def cpu_seconds(self) -> float:
        """User+system CPU time of the service process so far (from /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks


@dataclass
class LocalStack:
    infra: InfraSettings = field(default_factory=InfraSettings)
    services: dict[str, LocalService] = field(default_factory=dict)
    # settings for every service, without the prefix, e.g. {"BIND_ATTEMPTS_PER_MINUTE": "1000000"}
    extra_env: dict[str, str] = field(default_factory=dict)
    # settings for one service, without the prefix, e.g. {"anomaly": {"KAFKA_GROUP_ID": "bench-1"}}
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    # database per service (default proctor_<service>); benchmarks use a throwaway one
    databases: dict[str, str] = field(default_factory=dict)
    log_dir: Path | None = None  # default <state>/logs
    # where media-ingest and its worker keep segments (MEDIA_STORAGE_URL); default <state>/media
    storage_url: str = ""

    def env_for(self, name: str, replica: int = 0) -> dict[str, str]:
        _module, prefix, _, offset = SERVICES[name]
        offset += 100 * replica
        keys = keyring(self.infra)
        database = (self.databases.get(name) or DATABASE.get(name)
                    or "proctor_" + name.replace("-", "_"))
        if name not in STATELESS:
            PostgresCluster(self.infra).ensure_database(database)
        env = dict(os.environ)
        env.update({
            f"{prefix}GRPC_PORT": str(port_base() + offset),
            f"{prefix}METRICS_PORT": str(port_base() + offset + 1),
            f"{prefix}KAFKA_BOOTSTRAP": self.infra.kafka_bootstrap,
            f"{prefix}DATABASE_URL": self.infra.pg_dsn_for(database),
            f"{prefix}TOKEN_PUBLIC_KEYS": keys.public_keys,
            f"{prefix}TOKEN_SIGNING_KEY": keys.signing.get(name, ""),
            f"{prefix}LOG_LEVEL": "INFO",
        })
        if name == "media-ingest":
            env[f"{prefix}EXAM_SESSION_TARGET"] = f"127.0.0.1:{port_base() + SERVICES['exam-session'][3]}"
        if name == "anomaly":
            env[f"{prefix}AUTH_FACE_TARGET"] = f"127.0.0.1:{port_base() + SERVICES['auth-face'][3]}"
        if name == "notify":
            env[f"{prefix}HTTP_PORT"] = str(port_base() + offset + 2)
        uses_storage = name in ("media-ingest", "media-worker", "anomaly", "notify")
        if uses_storage and (self.storage_url or "MEDIA_STORAGE_URL" not in env):
            env["MEDIA_STORAGE_URL"] = self.storage_url or (self.infra.state / "media").as_uri()
        env.update({prefix + k: v for k, v in self.extra_env.items()})
        env.update({prefix + k: v for k, v in self.service_env.get(name, {}).items()})
        return env

    async def start(self, name: str, timeout_s: float = 60.0, replica: int = 0) -> LocalService:
        """Start one replica of a service (replicas share the database and the consumer group)."""
        module, _prefix, grpc_name, offset = SERVICES[name]
        offset += 100 * replica
        log_dir = self.log_dir or self.infra.state / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        key = name if replica == 0 else f"{name}-{replica}"
        log_file = log_dir / f"{key}.log"
        with log_file.open("ab") as log:
            nice = NICE.get(name, 0)  # nice(1) execs the service: same pid, so its CPU time is still read
            priority = ["nice", "-n", str(nice)] if nice else []
            process = subprocess.Popen(  # noqa: ASYNC220 - returns at once; readiness is awaited below
                [*priority, sys.executable, "-m", module], env=self.env_for(name, replica),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        service = LocalService(key, port_base() + offset, port_base() + offset + 1, process, log_file)
        self.services[key] = service
        await wait_serving(service, grpc_name, timeout_s)
        return service

    async def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            if service.process.poll() is None:
                service.process.send_signal(signal.SIGTERM)
        for service in self.services.values():
            try:
                await asyncio.to_thread(service.process.wait, 30)
            except subprocess.TimeoutExpired:
                service.process.kill()
        self.services.clear()


async def wait_serving(service: LocalService, grpc_name: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    async with grpc.aio.insecure_channel(service.target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if service.process.poll() is not None:
                raise InfraError(f"{service.name} exited with {service.process.returncode}; "
                                 f"read {service.log_file}")
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(service=grpc_name), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.2)
    raise InfraError(f"{service.name} not SERVING after {timeout_s:.0f}s; read {service.log_file}")

"""A single-node Apache Kafka broker (KRaft, broker+controller) assembled from Maven Central jars."""

from __future__ import annotations

import base64
import logging
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka.admin import AdminClient

from proctor_runtime.devinfra.config import InfraSettings, repo_root
from proctor_runtime.devinfra.process import (
    InfraError,
    kill_hard,
    port_in_use,
    read_pid,
    run_checked,
    spawn,
    stop_pid,
    wait_until,
)

log = logging.getLogger(__name__)

JVM_OPTS = ["-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
            "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
            "-Djava.awt.headless=true"]


@dataclass
class KafkaBroker:
    settings: InfraSettings

    @property
    def home(self) -> Path:
        return self.settings.state / "kafka"

    @property
    def lib_dir(self) -> Path:
        return self.home / f"libs-{self.settings.kafka_version}"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "kafka.out"

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def conf_dir(self) -> Path:
        return repo_root() / "infra" / "kafka"

    def installed(self) -> bool:
        return any(self.lib_dir.glob("*kafka_2.13-*.jar"))

    def install(self) -> None:
        """Copy every runtime jar of the broker from Maven Central (cached under the state dir)."""
        if self.installed():
            return
        if shutil.which("mvn") is None or shutil.which("java") is None:
            raise InfraError("java and mvn are needed for Kafka: run scripts/setup "
                             "(apt packages openjdk-17-jre-headless and maven)")
        tmp = self.lib_dir.with_suffix(".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        run_checked(["mvn", "-B", "-q", "-f", str(self.conf_dir / "pom.xml"),
                     f"-Dkafka.version={self.settings.kafka_version}",
                     f"-Dkafka.libs.dir={tmp}",
                     f"-Dmaven.repo.local={self.settings.state / 'cache' / 'm2'}", "package"],
                    "fetching the Kafka jars from Maven Central with mvn",
                    cwd=str(self.conf_dir))
        tmp.rename(self.lib_dir)

    def pid(self) -> int | None:
        return read_pid(self.pid_file)

    def running(self) -> bool:
        return self.pid() is not None

    def ready(self, timeout_s: float = 2.0) -> bool:
        """A real metadata request: the broker answers and lists itself."""
        admin = AdminClient({"bootstrap.servers": self.settings.kafka_bootstrap,
                             "socket.connection.setup.timeout.ms": 1000,
                             "log_level": 0, "logger": _quiet})
        try:
            meta = admin.list_topics(timeout=timeout_s)
        except Exception:  # noqa: BLE001 - any failure means "not ready yet"
            return False
        return len(meta.brokers) >= 1

    def start(self) -> None:
        if self.running():
            wait_until(self.ready, self.settings.kafka_start_timeout_s, self.running,
                       "kafka", self.log_file)
            return
        for port in (self.settings.kafka_port, self.settings.kafka_controller_port):
            if port_in_use(port):
                raise InfraError(f"port {port} is taken by another process; set "
                                 "PROCTOR_INFRA_KAFKA_PORT / PROCTOR_INFRA_KAFKA_CONTROLLER_PORT")
        self.install()
        self._render()
        self._format()
        java = shutil.which("java") or "java"
        argv = [java, *self.settings.kafka_heap.split(), *JVM_OPTS, *self._log_opts(),
                "-cp", f"{self.lib_dir}/*", "kafka.Kafka", str(self.home / "server.properties")]
        self.log_file.write_text("")
        spawn(argv, self.log_file, self.pid_file)
        try:
            wait_until(self.ready, self.settings.kafka_start_timeout_s, self.running,
                       "kafka", self.log_file)
        except InfraError:
            self.stop()
            raise
        log.info("kafka ready", extra={"bootstrap": self.settings.kafka_bootstrap})

    def stop(self) -> None:
        stop_pid(self.pid_file)

    def crash(self) -> None:
        """kill -9 the broker (the fault campaign's crash): no controlled shutdown, the log is recovered
        at the next start."""
        pid = self.pid()
        if pid is not None:
            kill_hard(pid)
        self.pid_file.unlink(missing_ok=True)

    def reset(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def _log_opts(self) -> list[str]:
        return [f"-Dkafka.logs.dir={self.home / 'logs'}",
                f"-Dlog4j2.configurationFile={self.conf_dir / 'log4j2.properties'}"]

    def _render(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        text = (self.conf_dir / "server.properties").read_text()
        text = (text.replace("@DATA_DIR@", str(self.data_dir))
                .replace("@CTRL_PORT@", str(self.settings.kafka_controller_port))
                .replace("@PORT@", str(self.settings.kafka_port)))
        (self.home / "server.properties").write_text(text)

    def _format(self) -> None:
        if (self.data_dir / "meta.properties").exists():
            return
        java = shutil.which("java") or "java"
        run_checked([java, *self._log_opts(), "-cp", f"{self.lib_dir}/*",
                     "kafka.tools.StorageTool", "format", "-t", _cluster_id(),
                     "-c", str(self.home / "server.properties"), "--ignore-formatted"],
                    "formatting the Kafka storage")


def _cluster_id() -> str:
    """Same text form as org.apache.kafka.common.Uuid: url-safe base64, no padding, no leading '-'."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _quiet(*_args: object) -> None:
    """librdkafka logger that drops connection-refused noise while polling for readiness."""

"""What the benchmarks share: bearer metadata, process CPU from /proc, and a thread that watches a
topic from its current end and records when each event was first seen."""

from __future__ import annotations

import os
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def postgres_cpu() -> float:
    """CPU of every postgres process, including exited backends (cumulative children time)."""
    total = 0.0
    for pid in postgres_pids():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        tick = os.sysconf("SC_CLK_TCK")
        total += (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick
    return total


@dataclass
class TopicWatcher:
    """Reads ``topic`` from its end in a thread: keeps the events ``accept`` takes and the monotonic
    time each ``key`` was first seen. ``start()`` returns once it is positioned at the end."""

    bootstrap: str
    topic: str
    message: Any
    key: Callable[[Any], str]
    accept: Callable[[Any], bool] = lambda _event: True
    times: dict[str, float] = field(default_factory=dict)
    values: list[Any] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self, timeout_s: float = 30.0) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(timeout_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self, ready: threading.Event) -> None:
        # log_level 2: a broker that is down (the fault campaign restarts it) is retried quietly, not
        # reported every 50 ms; the services log their own view of it. fetch.wait.max.ms is the broker's
        # wait when there is *nothing* to return (a new message completes a waiting fetch at once): at
        # 10 ms this watcher alone cost the broker 3 % of a core, charged to the system in the simulation
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": f"bench-{uuid.uuid4().hex}",
                             "enable.auto.commit": False, "fetch.wait.max.ms": 500, "log_level": 2})
        parts = consumer.list_topics(self.topic, timeout=10).topics[self.topic].partitions
        ends = []
        for p in parts:
            _, high = consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=10)
            ends.append(TopicPartition(self.topic, p, high))
        consumer.assign(ends)
        ready.set()
        while not self._stop.is_set():
            msg = consumer.poll(0.05)
            if msg is None or msg.error():
                continue
            now = time.monotonic()
            event = self.message.FromString(msg.value())
            if self.accept(event):
                self.values.append(event)
                self.times.setdefault(self.key(event), now)
        consumer.close()


def scraped_counter(metrics_port: int, name: str, **labels: str) -> float:
    """A counter of a local process's metrics endpoint, summed over the samples with ``labels``."""
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return sum(sample.value for family in text_string_to_metric_families(text) if family.name == name
               for sample in family.samples if sample.name.endswith("_total")
               and all(sample.labels.get(k) == v for k, v in labels.items()))

"""The fault campaign: real faults injected into a simulated sitting, and what must still hold afterwards.

    proctor simulate --candidates 12 --faults all --json       (scripts/chaos)

Faults, one after another from the start of the exam, each waiting for the previous one to recover:

- ``cut-upload``: one candidate's network is cut in the middle of an upload chunk (their media connection
  runs through a ``Cable``), down for a few seconds; the client resumes where the server says;
- ``kill:<service>``: ``kill -9`` of a service process, restarted after a pause (as Kubernetes restarts a
  crashed pod): exam-session, auth-face, media-ingest, media-worker, anomaly, notify;
- ``kafka``: ``kill -9`` of the Kafka broker, restarted (the log is recovered);
- ``postgres``: immediate shutdown of PostgreSQL (every backend killed, no checkpoint), restarted (WAL
  replay).

Checked afterwards (``checks`` in the report, each with ``ok`` and what it counted): no acknowledged media
byte lost (SHA-256 of every acknowledged segment, read back from storage), every recorded segment stored
after the final uploads, every incident on Kafka held by notify and delivered to its room's proctor
exactly once (resumed feeds included), no incident raised twice for the same event, every acknowledged
answer in the answer sheet, every candidate's state the same in exam-session and on the proctors'
candidate grid, no candidate left with an error.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc

from proctor.common.v1 import common_pb2 as c
from proctor.exam.v1 import exam_session_pb2 as pb
from proctor.media.v1 import media_ingest_pb2_grpc
from proctor.notify.v1 import notify_pb2 as npb
from proctor_cli.retry import retried
from proctor_cli.simulate.cable import Cable
from proctor_cli.simulate.candidate import Stubs, until
from proctor_cli.simulate.run import Hooks, Simulation
from proctor_runtime import channels
from proctor_runtime.devinfra import KafkaBroker, PostgresCluster
from proctor_runtime.tokens import Role

KILLABLE = ["exam-session", "media-ingest", "media-worker", "anomaly", "notify", "auth-face"]
FAULTS: dict[str, str] = {
    "cut-upload": "a candidate's network cut in the middle of an upload chunk, down for {down_s:.0f} s",
    **{f"kill:{name}": f"kill -9 of {name}, restarted {{down_s:.0f}} s later" for name in KILLABLE},
    "kafka": "kill -9 of the Kafka broker, restarted {down_s:.0f} s later",
    "postgres": "PostgreSQL crashed (immediate shutdown), restarted {down_s:.0f} s later",
}
ALL = list(FAULTS)


def parse(spec: str) -> list[str]:
    """``all`` or a comma-separated list of fault names, in the order given."""
    names = ALL if spec.strip() == "all" else [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in FAULTS]
    if unknown or not names:
        raise ValueError(f"unknown fault(s) {unknown or spec!r}; choose from: all, {', '.join(ALL)}")
    return names


@dataclass
class Injected:
    name: str
    what: str
    at: str = ""  # wall time (UTC) of the injection
    at_exam_s: float = 0.0  # seconds after the exam started
    recovered_s: float | None = None  # injection -> serving again (or the candidate's upload resumed)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class FaultCampaign:
    names: list[str]
    down_s: float = 2.0
    first_after_s: float = 4.0  # after the exam starts
    injected: list[Injected] = field(default_factory=list)
    cable: Cable | None = None
    cut_candidate: str = ""
    _channel: grpc.aio.Channel | None = None

    def hooks(self) -> Hooks:
        return Hooks(before_sitting=[self.prepare], during=[self.inject_all], after_sitting=[self.check])

    # --- before the sitting: the candidate whose network will be cut ----------------------------------
    async def prepare(self, sim: Simulation) -> None:
        if "cut-upload" not in self.names:
            return
        target = sim.stack.services["media-ingest"]
        self.cable = Cable("127.0.0.1", target.grpc_port)
        via = await self.cable.start()
        honest = [p for p in sim.plans if not p.cheater and p.drop is None] or sim.plans
        self.cut_candidate = honest[0].cid
        self._channel = channels.channel(via)
        sim.candidate_stubs[self.cut_candidate] = Stubs(
            sim.stubs.exam, sim.stubs.auth, media_ingest_pb2_grpc.MediaIngestStub(self._channel), sim.staff)
        sim.log("faults", f"{self.cut_candidate}'s media connection runs through a cable on {via}")

    # --- during: one fault after another ---------------------------------------------------------------
    async def inject_all(self, sim: Simulation) -> None:
        tl = sim.timeline
        assert tl is not None
        spacing = max(3.0, (tl.exam_s - self.first_after_s - 5) / max(1, len(self.names)))
        for k, name in enumerate(self.names):
            await until(tl.start + timedelta(seconds=self.first_after_s + k * spacing))
            record = Injected(name, FAULTS[name].format(down_s=self.down_s), at=datetime.now(UTC).isoformat(),
                              at_exam_s=round((datetime.now(UTC) - tl.start).total_seconds(), 1))
            sim.log("faults", f"injecting {name}: {record.what}")
            started = time.monotonic()
            try:
                record.detail = await self._inject(sim, name)
                record.recovered_s = round(time.monotonic() - started, 1)
                sim.log("faults", f"{name}: recovered after {record.recovered_s} s {record.detail or ''}")
            except Exception as exc:  # noqa: BLE001 - a fault that could not be undone is reported, and fails the run
                record.detail = {"error": f"{type(exc).__name__}: {exc}"}
                sim.log("faults", f"{name}: FAILED to recover: {exc}")
            self.injected.append(record)

    async def _inject(self, sim: Simulation, name: str) -> dict[str, Any]:
        if name == "cut-upload":
            assert self.cable is not None
            cut = self.cable.cut_mid_upload(self.down_s)
            try:
                report = await asyncio.wait_for(cut, timeout=60)
            except TimeoutError:
                return {"cut": False, "why": "the candidate uploaded nothing within 60 s"}
            await asyncio.sleep(self.down_s)
            return {"cut": True, "candidate_id": self.cut_candidate, **asdict(report)}
        if name.startswith("kill:"):
            service = name.split(":", 1)[1]
            await sim.crash_process(service, kill=lambda: _kill_service(sim, service), down_s=self.down_s,
                                    restart=lambda: sim.stack.start(service, timeout_s=240))
            return {}
        if name == "kafka":
            broker = KafkaBroker(sim.infra)
            await sim.crash_process("kafka", kill=lambda: asyncio.to_thread(broker.crash), down_s=self.down_s,
                                    restart=lambda: asyncio.to_thread(broker.start))
            return {}
        if name == "postgres":
            cluster = PostgresCluster(sim.infra)
            await sim.crash_process("postgresql", kill=lambda: asyncio.to_thread(cluster.crash),
                                    down_s=self.down_s, restart=lambda: asyncio.to_thread(cluster.start))
            return {}
        raise ValueError(name)

    # --- after: what must still hold ------------------------------------------------------------------
    async def check(self, sim: Simulation) -> None:
        checks: dict[str, dict[str, Any]] = {}
        exam_states = {p.cid: await _exam_state(sim, p.cid) for p in sim.plans}
        grid = await _grid_states(sim)
        differ = {cid: {"exam_session": s, "notify_grid": grid.get(cid)} for cid, s in exam_states.items()
                  if grid.get(cid) != s}
        checks["states_consistent"] = {"ok": not differ, "candidates": len(exam_states), "differ": differ}
        finished = {cid: s for cid, s in exam_states.items() if s != "UPLOADED"}
        checks["every_candidate_uploaded"] = {"ok": not finished, "not_uploaded": finished}
        missing = await _segments_missing(sim)
        checks["every_recorded_segment_stored"] = {"ok": not missing["missing"], **missing}
        held = await _notify_incidents(sim)
        on_kafka = sim.opened_incident_ids()
        checks["notify_holds_every_incident"] = {"ok": on_kafka <= held, "on_kafka": len(on_kafka),
                                                 "held_by_notify": len(held),
                                                 "missing": sorted(on_kafka - held)[:20]}
        checks["no_candidate_errors"] = {"ok": not any(p.out.errors for p in sim.people),
                                         "errors": {p.cid: p.out.errors for p in sim.people if p.out.errors}}
        recovered = all(r.recovered_s is not None and "error" not in r.detail for r in self.injected)
        cut_ok = all(r.detail.get("cut", True) for r in self.injected)
        checks["every_fault_injected_and_recovered"] = {"ok": recovered and cut_ok
                                                        and len(self.injected) == len(self.names)}
        sim.data["faults"] = {"injected": [asdict(r) for r in self.injected], "checks": checks,
                              "feed_reconnects": sim.desk.reconnects}
        if self.cable is not None:
            await self.cable.stop()
        if self._channel is not None:
            await self._channel.close()


async def _kill_service(sim: Simulation, name: str) -> None:
    service = sim.stack.services[name]
    service.process.kill()
    await asyncio.to_thread(service.process.wait)


async def _exam_state(sim: Simulation, cid: str) -> str:
    status = await retried(lambda: sim.stubs.exam.GetCandidateState(pb.GetCandidateStateRequest(
        sitting_id=sim.sitting_id, candidate_id=cid), metadata=sim.staff))
    return c.CandidateState.Name(status.candidate.state).removeprefix("CANDIDATE_STATE_")


async def _grid_states(sim: Simulation) -> dict[str, str]:
    """The candidate grid as a chief proctor's console opens it now (notify's snapshot)."""
    chief = sim.admin.issue(sub="sim-check", role=Role.CHIEF_PROCTOR, ttl_s=600, sitting_id=sim.sitting_id)[0]
    call = sim.notify.SubscribeIncidents(npb.SubscribeIncidentsRequest(sitting_id=sim.sitting_id),
                                         metadata=(("authorization", f"Bearer {chief}"),))
    states: dict[str, str] = {}
    async for item in call:
        kind = item.WhichOneof("item")
        if kind == "candidate":
            snap = item.candidate.candidate
            states[snap.candidate_id] = c.CandidateState.Name(snap.state).removeprefix("CANDIDATE_STATE_")
        elif kind == "snapshot_complete":
            break
    call.cancel()
    return states


async def _notify_incidents(sim: Simulation) -> set[str]:
    out: set[str] = set()
    token = ""
    while True:
        page = await sim.notify.ListIncidents(npb.ListIncidentsRequest(
            sitting_id=sim.sitting_id, page_size=1000, page_token=token), metadata=sim.staff)
        out.update(v.incident.incident_id for v in page.incidents)
        token = page.next_page_token
        if not token:
            return out


async def _segments_missing(sim: Simulation) -> dict[str, Any]:
    """Every segment the clients recorded is in its stream's manifest with the client's hash."""
    manifests = {stream_id: entries for stream_id, _acked, entries in await sim.manifests()}
    recorded = missing = 0
    where: list[str] = []
    for person in sim.people:
        for rec in person.out.streams.values():
            if rec.uploader is None:
                continue
            entries = manifests.get(rec.uploader.stream_id, {})
            for index, seg in enumerate(rec.recorded):
                recorded += 1
                entry = entries.get(index)
                if entry is None or entry.sha256 != seg.sha256:
                    missing += 1
                    where.append(f"{person.cid}:{rec.uploader.stream_id}:{index}")
    return {"recorded": recorded, "missing": missing, "where": where[:20]}


def summary_lines(faults: dict[str, Any]) -> list[str]:
    lines = ["fault campaign:"]
    for r in faults["injected"]:
        lines.append(f"  {r['name']:<18} at exam +{r['at_exam_s']:>5.1f} s  recovered in {r['recovered_s']} s  "
                     f"{r['detail'] if r['detail'] else ''}")
    for name, check in faults["checks"].items():
        extra = {k: v for k, v in check.items() if k != "ok" and v not in ({}, [], 0)}
        lines.append(f"  check {name:<36} {'ok' if check['ok'] else 'FAILED'}  {extra if extra else ''}")
    return lines


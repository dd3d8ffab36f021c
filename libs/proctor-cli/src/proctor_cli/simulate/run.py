"""``Simulation``: a whole sitting with N simulated candidates against the real services.

    sim = Simulation(SimConfig(candidates=50, speed=30))
    await sim.start()          # services as real processes, throwaway databases, fresh consumer groups
    await sim.run()            # the sitting: plan, enrol, play every candidate, let the pipeline settle
    report = await sim.report()
    await sim.stop()

``hooks.before_sitting`` run once the sitting is planned and before the candidates start (they may give a
candidate its own stubs in ``candidate_stubs``); ``hooks.during`` are coroutines started with the
candidates and awaited before the pipeline settles (the fault campaign, ``faults.py``, kills and restarts
processes there through ``crash_process``); ``hooks.after_sitting`` run before the report is computed.
"""

from __future__ import annotations

import asyncio
import csv
import os
import shutil
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc

from proctor.auth.v1 import auth_face_pb2 as apb
from proctor.auth.v1 import auth_face_pb2_grpc
from proctor.common.v1 import common_pb2 as c
from proctor.events.v1 import incident_pb2
from proctor.exam.v1 import exam_session_pb2 as pb
from proctor.exam.v1 import exam_session_pb2_grpc
from proctor.media.v1 import media_ingest_pb2 as mpb
from proctor.media.v1 import media_ingest_pb2_grpc
from proctor.notify.v1 import notify_pb2_grpc
from proctor_cli import commands_exam, demo_media, sitting_spec
from proctor_cli.bench.common import TopicWatcher, bearer
from proctor_cli.demo import console_url
from proctor_cli.local import SERVICES, LocalStack
from proctor_cli.simulate import liveness, measure, plan, report
from proctor_cli.simulate.candidate import SimCandidate, Stubs, until
from proctor_cli.simulate.media import sources
from proctor_cli.simulate.proctor import SimDesk
from proctor_cli.simulate.studio import StudioMedia
from proctor_runtime import channels
from proctor_runtime.devinfra import InfraSettings, PostgresCluster
from proctor_runtime.devinfra.keys import keyring
from proctor_runtime.kafka import start_group_at_end
from proctor_runtime.tokens import Role, TokenSigner
from proctor_runtime.topics import (
    ALL_TOPICS,
    CLIENT_TELEMETRY,
    INCIDENTS,
    MEDIA_SEGMENTS_RECEIVED,
    MEDIA_SEGMENTS_STORED,
    MEDIA_STILLS,
)

# what must be consumed before the sitting's results are final: service -> its input topics
SETTLE_INPUTS = {"media-worker": {MEDIA_SEGMENTS_RECEIVED.name},
                 "anomaly": {MEDIA_SEGMENTS_STORED.name, MEDIA_STILLS.name, CLIENT_TELEMETRY.name},
                 "notify": {INCIDENTS.name}}
# the steady window: the part of the exam (as fractions of it) whose CPU is only the running cost of
# recording (logins, late entries and room scans are over, the final uploads not begun): see
# ``report.cpu_projection``
STEADY_WINDOW = (0.4, 0.95)
ORDER = ["exam-session", "auth-face", "media-ingest", "media-worker", "anomaly", "notify"]
Hook = Callable[["Simulation"], Coroutine[Any, Any, None]]


@dataclass
class Hooks:
    before_sitting: list[Hook] = field(default_factory=list)
    during: list[Hook] = field(default_factory=list)
    after_sitting: list[Hook] = field(default_factory=list)


@dataclass
class Journal:
    verbose: bool = False
    lines: list[str] = field(default_factory=list)
    t0: float = field(default_factory=time.monotonic)

    def __call__(self, who: str, what: str) -> None:
        line = f"[{time.monotonic() - self.t0:6.1f}s] {who:<10} {what}"
        self.lines.append(line)
        if self.verbose:
            print(line, file=sys.stderr, flush=True)


class Simulation:
    def __init__(self, cfg: plan.SimConfig, infra: InfraSettings | None = None, verbose: bool = False,
                 hooks: Hooks | None = None) -> None:
        self.cfg, self.infra = cfg, infra or InfraSettings()
        self.hooks = hooks or Hooks()
        self.log = Journal(verbose)
        self.run_id = uuid.uuid4().hex[:8]
        self.sitting_id = f"sim-{datetime.now(UTC):%Y%m%d-%H%M%S}-{self.run_id[:4]}"
        self.storage = self.infra.state / "simulate" / self.run_id
        self.databases = {name: f"proctor_sim_{self.run_id}_{name.replace('-', '_')}"
                          for name in ("exam-session", "auth-face", "media-ingest", "notify")}
        self.databases["media-worker"] = self.databases["media-ingest"]
        groups = {name: f"sim-{self.run_id}-{name}" for name in ORDER}
        self.groups = groups
        env = {name: {"KAFKA_GROUP_ID": g} for name, g in groups.items()}
        # every simulated device shares one client address: the per-address limits (which stand for many
        # candidates behind one NAT) are lifted; the per-candidate ones stay
        env["exam-session"]["BIND_ATTEMPTS_PER_MINUTE"] = "1000000"
        env["auth-face"]["PRELOGIN_PER_ADDRESS_PER_MINUTE"] = "1000000"
        # the segment lengths media-ingest announces, which the studio renders
        env["media-ingest"].update({"SEGMENT_S_DESKTOP_CAMERA": str(cfg.segment_s),
                                    "SEGMENT_S_PHONE_EVIDENCE": str(cfg.phone_segment_s),
                                    "SEGMENT_S_DESKTOP_SCREEN": str(cfg.screen_segment_s)})
        self.stack = LocalStack(self.infra, extra_env={"LOG_LEVEL": "WARNING", "SWEEP_INTERVAL_S": "0.5"},
                                service_env=env,
                                databases=self.databases, storage_url=self.storage.as_uri(),
                                log_dir=self.storage.parent / f"{self.run_id}-logs")
        admin = TokenSigner(keyring(self.infra).signing["admin"])
        self.admin = admin
        self.staff = bearer(admin.issue(sub="sim-staff", role=Role.STAFF, ttl_s=4 * 3600)[0])
        self.plans: list[plan.CandidatePlan] = []
        self.people: list[SimCandidate] = []
        self.timeline: plan.Timeline | None = None
        self.channels: list[grpc.aio.Channel] = []
        self.cpu_start: dict[str, float] = {}
        self.cpu_end: dict[str, float] = {}
        self.steady: list[tuple[datetime, dict[str, float]]] = []  # (time, CPU) at the steady window's ends
        self.cpu_of_dead: dict[str, float] = {}  # CPU of processes crashed and replaced during the run
        self.candidate_stubs: dict[str, Stubs] = {}
        self.wall = (0.0, 0.0)
        self.enrolled: dict[str, bool] = {}
        self.data: dict[str, Any] = {}

    # --- start ------------------------------------------------------------------------------------------
    async def start(self) -> None:
        topics = [t.name for t in ALL_TOPICS]
        for group in self.groups.values():
            await asyncio.to_thread(start_group_at_end, self.infra.kafka_bootstrap, group, topics)
        self.storage.mkdir(parents=True, exist_ok=True)
        for name in ORDER:
            slow = name in ("auth-face", "anomaly")
            service = await self.stack.start(name, timeout_s=240 if slow else 90)
            self.log("stack", f"{name} serving on {service.target}")
        cache = self.infra.state / "cache"
        self.src = await asyncio.to_thread(sources, cache)
        demo = await asyncio.to_thread(demo_media.sources, cache)
        self.media = StudioMedia(self.src, self.cfg, demo, cache)
        self.repertoires = await asyncio.to_thread(self._repertoires, cache)
        self.log("media", f"sources: {self.src.origin}; liveness repertoires: "
                 + ", ".join(f"{k}={sorted(r.moves) if r.neutral else 'none'}" for k, r in self.repertoires.items()))
        svc = self.stack.services
        self.channels = [channels.channel(svc[n].target) for n in ("exam-session", "auth-face",
                                                                             "media-ingest", "notify")]
        self.stubs = Stubs(exam_session_pb2_grpc.ExamSessionStub(self.channels[0]),
                           auth_face_pb2_grpc.AuthFaceStub(self.channels[1]),
                           media_ingest_pb2_grpc.MediaIngestStub(self.channels[2]), self.staff)
        self.notify = notify_pb2_grpc.NotifyStub(self.channels[3])

    def _repertoires(self, cache: Path) -> dict[str, liveness.Repertoire]:
        pack = None
        out = {}
        for ident in self.src.identities:
            if ident.liveness_clip is None:
                continue
            if pack is None and not liveness.track_path(cache, ident.liveness_clip).exists():
                from proctor_faces import FacesSettings, load_pack

                pack = load_pack(FacesSettings())
            out[ident.name] = liveness.repertoire(ident.liveness_clip,
                                                  liveness.analyse_clip(ident.liveness_clip, cache, pack))
        return out

    # --- the sitting ------------------------------------------------------------------------------------
    async def run(self) -> None:
        cfg = self.cfg
        # the plan only uses the timeline's durations: draw it and render its media before the clock starts
        self.plans = plan.build(cfg, self.src, plan.Timeline.compressed(cfg, datetime.now(UTC)))
        await asyncio.to_thread(self.media.prepare, self.plans)
        prep_s = 10 + 0.3 * cfg.candidates  # import and enrolment
        start = datetime.now(UTC) + timedelta(seconds=prep_s) + cfg.scaled(30)
        self.timeline = tl = plan.Timeline.compressed(cfg, start)
        spec = tl.spec(self.sitting_id, cfg.questions)
        await self.stubs.exam.CreateSitting(pb.CreateSittingRequest(sitting=sitting_spec.to_proto(spec)),
                                            metadata=self.staff)
        await self._import()
        await self._enrol()
        self.log("staff", f"sitting {self.sitting_id}: login {tl.login_opens:%H:%M:%S}, start {tl.start:%H:%M:%S}, "
                 f"end {tl.end:%H:%M:%S} ({tl.exam_s:.0f} s), {len(self.plans)} candidates imported and enrolled")
        rooms = sorted({p.room for p in self.plans})
        self.desk = SimDesk(self.notify, self.admin, self.sitting_id, rooms, self.log)
        await self.desk.open()
        chief = self.admin.issue(sub="sim-console", role=Role.CHIEF_PROCTOR, ttl_s=4 * 3600,
                                 sitting_id=self.sitting_id)[0]
        self.data["console_token"] = chief
        self.log("console", f"{console_url()} — chief proctor token: {chief}")
        ours = self._ours
        self.incidents = TopicWatcher(self.infra.kafka_bootstrap, INCIDENTS.name, incident_pb2.IncidentEvent,
                                      lambda e: e.meta.event_id, ours)
        await asyncio.to_thread(self.incidents.start)
        self.cpu_start = self._cpu_now()
        self.wall = (time.monotonic(), 0.0)
        for h in self.hooks.before_sitting:
            await h(self)
        self.people = [SimCandidate(p, self.candidate_stubs.get(p.cid, self.stubs), self.sitting_id, tl,
                                    cfg.questions, self.media, self.log) for p in self.plans]
        during = [asyncio.create_task(h(self)) for h in self.hooks.during]
        during.append(asyncio.create_task(self._steady_window()))
        await asyncio.gather(*(person.run(self.repertoires.get(person.plan.identity.name))
                               for person in self.people), *during)
        await self._settle()
        self.cpu_end = self._cpu_now()
        self.data["load_average"] = [round(x, 2) for x in os.getloadavg()]
        self.wall = (self.wall[0], time.monotonic())
        for h in self.hooks.after_sitting:
            await h(self)
        await self.desk.close()
        await asyncio.to_thread(self.incidents.stop)

    def _ours(self, event: Any) -> bool:
        return bool(event.meta.sitting_id == self.sitting_id)

    async def _import(self) -> None:
        path = self.storage.parent / f"{self.run_id}-candidates.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["candidate_id", "name", "id_photo", "sitting_id", "room_id"])
            writer.writerows([p.cid, p.name, f"photos/{p.cid}.jpg", self.sitting_id, p.room] for p in self.plans)
        rows, _ = commands_exam.read_candidates(path)
        await self.stubs.exam.ImportCandidates(pb.ImportCandidatesRequest(rows=rows), metadata=self.staff)

    async def _enrol(self) -> None:
        """Staff enrol every candidate from their registration photo: a frame of their own footage (the
        first of a few that passes auth-face's quality gates, as staff would ask for another photo)."""
        photos = {ident.name: self.src.id_photos(ident) for ident in self.src.identities}
        good: dict[str, int] = {}
        gate = asyncio.Semaphore(4)

        async def one(p: plan.CandidatePlan) -> None:
            options = photos[p.identity.name]
            first = good.get(p.identity.name, 0)
            async with gate:
                for k in [first, *(k for k in range(len(options)) if k != first)]:
                    got = await self.stubs.auth.EnrolCandidate(apb.EnrolCandidateRequest(
                        sitting_id=self.sitting_id, candidate_id=p.cid, id_photo=options[k]), metadata=self.staff)
                    if got.enrolled:
                        good[p.identity.name] = k
                        self.enrolled[p.cid] = True
                        return
                self.enrolled[p.cid] = False
        first_of_each = {p.identity.name: p for p in self.plans}
        await asyncio.gather(*(one(p) for p in first_of_each.values()))
        await asyncio.gather(*(one(p) for p in self.plans if p.cid not in self.enrolled))

    async def _settle(self) -> None:
        """Wait until the pipeline is idle: the worker, anomaly and notify have consumed everything that was
        produced (lag 0 on their inputs three polls in a row), then a moment for the last console pushes."""
        assert self.timeline is not None
        deadline = time.monotonic() + 120 + 3 * self.timeline.exam_s
        quiet = 0
        while time.monotonic() < deadline and quiet < 3:
            lag = await asyncio.to_thread(self._lag)
            quiet = quiet + 1 if lag == 0 else 0
            await asyncio.sleep(1.0)
        if quiet < 3:
            self.data["settle_timeout"] = True
        # how long after the end of the exam the pipeline had caught up (a measure of overload)
        self.data["caught_up_s_after_end"] = round((datetime.now(UTC) - self.timeline.end).total_seconds(), 1)
        await asyncio.sleep(2.0)

    async def _steady_window(self) -> None:
        """CPU of every process at both ends of the steady window."""
        assert self.timeline is not None
        start, span = self.timeline.start, self.timeline.end - self.timeline.start
        for fraction in STEADY_WINDOW:
            await until(start + span * fraction)
            self.steady.append((datetime.now(UTC), await asyncio.to_thread(self._cpu_now)))

    def _lag(self) -> int:
        return measure.lag(self.infra.kafka_bootstrap, {self.groups[k]: v for k, v in SETTLE_INPUTS.items()})

    def _cpu_now(self) -> dict[str, float]:
        now = measure.cpu_now(self.stack)
        return {k: now.get(k, 0.0) + self.cpu_of_dead.get(k, 0.0) for k in {*now, *self.cpu_of_dead}}

    async def crash_process(self, key: str, kill: Callable[[], Awaitable[Any]], restart: Callable[[], Awaitable[Any]],
                            down_s: float) -> None:
        """Crash one process (a service, ``kafka`` or ``postgresql``), leave it down ``down_s`` seconds, start
        it again; the CPU it had used still counts in the report."""
        before = await asyncio.to_thread(measure.cpu_now, self.stack)
        await kill()
        self.cpu_of_dead[key] = self.cpu_of_dead.get(key, 0.0) + before.get(key, 0.0)
        await asyncio.sleep(down_s)
        await restart()

    def opened_incident_ids(self) -> set[str]:
        return set(report.detections(self.incidents.values))

    def _cpu_projection(self, used: dict[str, float], outs: dict[str, Any]) -> dict[str, Any]:
        steady: dict[str, float] = {}
        steady_hours = 0.0
        if len(self.steady) == 2:
            (a, cpu_a), (b, cpu_b) = self.steady
            steady = {k: cpu_b.get(k, 0.0) - v for k, v in cpu_a.items()}
            steady_hours = sum(report.overlap_s(o.recording_from, o.recording_from + timedelta(seconds=o.recording_s),
                                                a, b) for o in outs.values() if o.recording_from) / 3600
        hours = sum(o.recording_s for o in outs.values()) / 3600
        return report.cpu_projection(used, steady, steady_hours, hours, self.cfg.candidates, self.cfg.minutes / 60)

    # --- report -----------------------------------------------------------------------------------------
    async def report(self) -> dict[str, Any]:
        assert self.timeline is not None
        cfg, tl = self.cfg, self.timeline
        outs = {p.cid: p.out for p in self.people}
        hours = sum(o.recording_s for o in outs.values()) / 3600
        honest = sum(o.recording_s for p, o in zip(self.plans, outs.values(), strict=True) if not p.cheater) / 3600
        found = report.detections(self.incidents.values)
        acc = report.accuracy(self.plans, found, honest, tl.abandon_grace)
        lat = report.latency(found, self.desk.arrivals, self.plans)
        dlv = report.delivery(found, self.desk.deliveries)
        states, lost_answers, acked_answers = await self._answers_and_states(outs)
        media = report.media_loss(await self.manifests())
        used = {k: round(self.cpu_end.get(k, 0.0) - v, 2) for k, v in self.cpu_start.items()}
        cpu = self._cpu_projection(used, outs)
        stored = report.tree_bytes(self.storage)
        logins: dict[str, int] = {}
        for o in outs.values():
            logins[o.login or "failed"] = logins.get(o.login or "failed", 0) + 1
        result: dict[str, Any] = {
            "sitting_id": self.sitting_id, "candidates": cfg.candidates, "cheaters": cfg.cheater_count,
            "speed": cfg.speed, "seed": cfg.seed, "exam_minutes": cfg.minutes, "exam_wall_s": tl.exam_s,
            "segment_s": cfg.segment_s, "phone_segment_s": cfg.phone_segment_s, "media_source": self.src.origin,
            "wall_s": round(self.wall[1] - self.wall[0], 1), "candidate_hours": round(hours, 4),
            "honest_candidate_hours": round(honest, 4),
            "incident_recall": acc["incident_recall"], "incident_precision": acc["incident_precision"],
            "incident_precision_any_kind": acc["incident_precision_any_kind"],
            "incident_recall_by_kind": {k: v["recall"] for k, v in acc["per_kind"].items() if v["injected"]},
            "false_alarms_per_honest_hour": acc["false_alarms_per_honest_hour"],
            "e2e_p50_ms": lat["e2e_p50_ms"], "e2e_p99_ms": lat["e2e_p99_ms"],
            "cpu_seconds_by_process": used,
            "cpu_seconds_per_candidate_hour_by_process": cpu["by_process"],
            "cpu_seconds_per_candidate_hour": cpu["cpu_seconds_per_candidate_hour"],
            "cpu_seconds_per_candidate_hour_services": round(sum(v for k, v in cpu["by_process"].items()
                                                                 if k in SERVICES), 1),
            "cpu": cpu,
            "bytes_stored": stored, "bytes_stored_per_candidate_hour": round(stored / hours) if hours else None,
            "media_bytes_lost": media["media_bytes_lost"],
            "media_bytes_acknowledged": media["media_bytes_acknowledged"],
            "stills": report.stills_flow([o.streams for o in outs.values()]),
            "incidents_lost": dlv["incidents_lost"], "incidents_duplicated": dlv["incidents_duplicated"],
            "answers_lost": lost_answers, "answers_acknowledged": acked_answers,
            "answers_flagged_offline": sum(o.answers_flagged for o in outs.values()),
            "logins": logins,
            "liveness": {"challenges": sum(o.challenges for o in outs.values()),
                         "unanswerable": sum(o.unanswerable for o in outs.values()),
                         "failures": [f for o in outs.values() for f in o.liveness_failures][:20],
                         "repertoires": {k: sorted(r.moves) if r.neutral else []
                                         for k, r in self.repertoires.items()}},
            "states": dict(sorted(_count(states.values()).items())),
            "network_drops": sum(1 for p in self.plans if p.drop and p.drop.start),
            "accuracy": acc, "latency": lat, "delivery": dlv, "media": media,
            "truth": [_truth(p) for p in self.plans if p.injections],
            "errors": {cid: o.errors for cid, o in outs.items() if o.errors},
            "not_enrolled": [cid for cid, ok in self.enrolled.items() if not ok],
            "settle_timeout": self.data.get("settle_timeout", False),
            "caught_up_s_after_end": self.data.get("caught_up_s_after_end"),
            "load_average": self.data.get("load_average"),
            "console_url": console_url(), "proctors": self.desk.summary(),
        }
        if "faults" in self.data:
            faults = self.data["faults"]
            checks = faults["checks"]
            checks["no_acknowledged_media_byte_lost"] = {"ok": media["media_bytes_lost"] == 0, **media}
            checks["every_incident_delivered_exactly_once"] = {
                "ok": dlv["incidents_lost"] == 0 and dlv["incidents_duplicated"] == 0,
                **{k: v for k, v in dlv.items() if k != "incidents_lost_ids" or v}}
            checks["no_incident_raised_twice"] = {"ok": dlv["incidents_raised_twice"] == 0,
                                                  "raised_twice": dlv["incidents_raised_twice"]}
            checks["every_acknowledged_answer_present"] = {"ok": lost_answers == 0, "acknowledged": acked_answers,
                                                           "lost": lost_answers}
            faults["ok"] = all(check["ok"] for check in checks.values())
            result["faults"] = faults
        result["text"] = report.summary_text(result)
        return result

    async def _answers_and_states(self, outs: dict[str, Any]) -> tuple[dict[str, str], int, int]:
        states, lost, acked = {}, 0, 0
        for cid, out in outs.items():
            ids = {"sitting_id": self.sitting_id, "candidate_id": cid}
            status = await self.stubs.exam.GetCandidateState(pb.GetCandidateStateRequest(**ids), metadata=self.staff)
            states[cid] = c.CandidateState.Name(status.candidate.state).removeprefix("CANDIDATE_STATE_")
            out.state = states[cid]
            if not out.answers_acked:
                continue
            sheet = await self.stubs.exam.ExportAnswerSheet(pb.ExportAnswerSheetRequest(
                **ids, allow_partial=True), metadata=self.staff)
            have = {a.question_id: a.answer.single_choice for a in sheet.answers if a.answer.WhichOneof("value")}
            acked += len(out.answers_acked)
            lost += sum(1 for q, v in out.answers_acked.items() if have.get(q) != v)
        return states, lost, acked

    async def manifests(self) -> list[tuple[str, dict[int, Any], dict[int, Any]]]:
        out = []
        for person in self.people:
            for rec in person.out.streams.values():
                if rec.uploader is None:
                    continue
                entries: dict[int, Any] = {}
                token = ""
                while True:
                    page = await self.stubs.media.GetManifest(mpb.GetManifestRequest(
                        stream_id=rec.uploader.stream_id, page_size=5000, page_token=token), metadata=self.staff)
                    entries.update({s.segment_index: s for s in page.segments})
                    token = page.next_page_token
                    if not token:
                        break
                out.append((rec.uploader.stream_id, rec.acknowledged, entries))
        return out

    # --- stop -------------------------------------------------------------------------------------------
    async def stop(self, keep_data: bool = False) -> None:
        for ch in self.channels:
            await ch.close()
        await self.stack.stop()
        if keep_data:
            return
        cluster = PostgresCluster(self.infra)
        for db in set(self.databases.values()):
            await asyncio.to_thread(cluster.psql, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        shutil.rmtree(self.storage, ignore_errors=True)
        shutil.rmtree(self.storage.parent / f"{self.run_id}-logs", ignore_errors=True)
        (self.storage.parent / f"{self.run_id}-candidates.csv").unlink(missing_ok=True)


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def _truth(p: plan.CandidatePlan) -> dict[str, Any]:
    return {"candidate_id": p.cid, "identity": p.identity.name,
            "injected": [{"kind": plan.kind_name(i.kind), "start": i.start.isoformat() if i.start else None,
                          "end": i.end.isoformat() if i.end else None} for i in p.injections]}


async def simulate(cfg: plan.SimConfig, verbose: bool = False, keep_data: bool = False,
                   hooks: Hooks | None = None) -> dict[str, Any]:
    sim = Simulation(cfg, verbose=verbose, hooks=hooks)
    try:
        await sim.start()
        await sim.run()
        return await sim.report()
    finally:
        await sim.stop(keep_data=keep_data)

"""One simulated candidate: the desktop client and the phone app driving the real services over gRPC.

Face login (liveness answered with the person's own real frames, or the audited staff override when the
footage cannot show what was asked), exam login, phone binding, the 360° room scan, waiting room, entry,
three recordings uploaded as they are recorded (camera with the injected anomalies, screen, phone
evidence; segments as long as media-ingest announces) with, for the camera and the phone evidence, a
live still at the announced interval sent as it is captured (``stills.py``), answers (saved online,
logged offline during a network drop and synced on reconnect; stills and segments kept and sent on
reconnect too), telemetry, heartbeats, the end and the last uploads. Everything the services
acknowledged is kept for the report (answers, sealed segments with their hashes, stills sent and
accepted); every injected anomaly gets the capture times at which it was really shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc

from media_ingest.client import Segment, StreamUploader, remaining
from proctor.auth.v1 import auth_face_pb2 as apb
from proctor.auth.v1 import auth_face_pb2_grpc
from proctor.common.v1 import common_pb2 as c
from proctor.exam.v1 import exam_session_pb2 as pb
from proctor.exam.v1 import exam_session_pb2_grpc
from proctor.media.v1 import media_ingest_pb2 as mpb
from proctor.media.v1 import media_ingest_pb2_grpc
from proctor_cli.retry import PATIENCE_S, RETRYABLE, retried
from proctor_cli.simulate import liveness
from proctor_cli.simulate.plan import FOCUS_LOST, SECOND_MONITOR, CandidatePlan, Injection, Timeline
from proctor_cli.simulate.stills import StillLimits, StillSender
from proctor_cli.simulate.studio import Feed
from proctor_runtime.events import ts

Metadata = tuple[tuple[str, str], ...]
MAX_CHALLENGES = 8  # per candidate (auth-face allows 12 a minute)
MAX_LIVENESS_FAILURES = 2  # then the staff override (auth-face queues manual review after 5)


def now() -> datetime:
    return datetime.now(UTC)


async def until(when: datetime) -> None:
    delay = (when - now()).total_seconds()
    if delay > 0:
        await asyncio.sleep(delay)


@dataclass
class Stubs:
    exam: exam_session_pb2_grpc.ExamSessionStub
    auth: auth_face_pb2_grpc.AuthFaceStub
    media: media_ingest_pb2_grpc.MediaIngestStub
    staff: Metadata


@dataclass
class Recorder:
    """One recording: a segment every ``segment_s`` seconds, uploaded at once unless offline (then the
    backlog goes up on the next online tick), through one resumable uploader whose acks are kept; and,
    when the server asks for them (``UploadLimits.still_interval``), the live stills of an analysed
    recording, sent beside it (``stills.StillSender``)."""

    stubs: Stubs
    md: Metadata
    ids: dict[str, str]
    kind: int
    fmt: c.MediaFormat
    feed: Feed  # what the device records (and the stills of each segment, for an analysed recording)
    segment_s: int
    recorded: list[Segment] = field(default_factory=list)
    uploader: StreamUploader | None = None
    stills: StillSender | None = None
    started: datetime | None = None  # when ``run`` started recording: segment i is captured from started + i segments
    errors: int = 0
    notes: list[str] = field(default_factory=list)

    async def open(self) -> None:
        request = mpb.OpenStreamRequest(
            **self.ids, kind=self.kind, format=self.fmt, client_start_time=ts(now()),
            client_stream_key=f"{self.ids['candidate_id']}-{c.StreamKind.Name(self.kind).lower()}")
        opened = await retried(lambda: self.stubs.media.OpenStream(request, metadata=self.md))
        name = c.StreamKind.Name(self.kind)
        if opened.limits.HasField("segment_duration"):
            asked = opened.limits.segment_duration.ToTimedelta().total_seconds()
            if abs(asked - self.segment_s) > 1e-6:
                self.fault(f"{name}: the server asks for {asked:g}-s segments, the simulator recorded "
                           f"{self.segment_s}-s ones")
        stream_id = opened.stream.stream_id
        self.uploader = StreamUploader(self.stubs.media, self.md, stream_id)  # chunks as large as allowed
        limits = StillLimits.announced(opened.limits)
        if limits is not None and self.feed.stills is None:
            self.fault(f"{name}: the server asks for stills of a recording the simulator does not analyse")
        elif limits is not None and self.feed.stills is not None:
            self.stills = StillSender(self.stubs.media, self.md, stream_id, limits, self.feed.stills, self.segment_s,
                                      lambda note: self.fault(f"{name} stills: {note}" if note else None))

    def fault(self, note: str | None) -> None:
        self.errors += 1
        if note:
            self.notes.append(note)

    def record(self) -> None:
        i = len(self.recorded)
        if self.started is not None:  # recording in real time: the segment's place in the recording
            start = self.started + timedelta(seconds=i * self.segment_s)
        else:
            start = now() - timedelta(seconds=self.segment_s)
        data = self.feed.segment(i, start)
        self.recorded.append(Segment(data, start, timedelta(seconds=self.segment_s)))

    async def flush(self) -> None:
        assert self.uploader is not None
        try:
            await self.uploader.upload(self.recorded)
        except grpc.aio.AioRpcError:
            self.errors += 1  # network trouble: what is not acknowledged stays local; the next flush resumes

    async def run(self, end: datetime, online: Callable[[], bool]) -> None:
        """Record (and upload) a segment every ``segment_s`` until ``end``; the stills, if any, go in a
        task of their own so that neither waits for the other."""
        self.started = next_at = now()
        sending = (asyncio.create_task(self.stills.run(self.started, end, online))
                   if self.stills is not None else None)
        try:
            while True:
                next_at += timedelta(seconds=self.segment_s)
                if next_at > end:
                    break
                await until(next_at)
                self.record()
                if online():
                    await self.flush()
        except asyncio.CancelledError:
            if sending is not None:
                sending.cancel()
            raise
        if sending is not None:
            await sending

    async def close(self, patience_s: float = PATIENCE_S) -> mpb.CloseStreamResponse:
        """Upload what is left (resuming after any failure until the server holds every segment), then
        close the stream."""
        uploader = self.uploader
        assert uploader is not None
        give_up = time.monotonic() + patience_s
        while True:
            await self.flush()
            try:
                held = await uploader.committed()
                if not remaining(held, len(self.recorded)):
                    break
            except grpc.aio.AioRpcError as exc:
                if exc.code() not in RETRYABLE:
                    raise
            if time.monotonic() > give_up:
                break  # closing reports what is missing
            await asyncio.sleep(0.5)
        return await retried(lambda: uploader.close(self.recorded))  # type: ignore[no-any-return]

    @property
    def acknowledged(self) -> dict[int, Segment]:
        assert self.uploader is not None
        return {i: self.recorded[i] for i in self.uploader.stats.sealed_indexes}


@dataclass
class Outcome:
    """What one candidate did and what the services acknowledged."""

    login: str = ""  # liveness | override | failed
    challenges: int = 0
    unanswerable: int = 0
    liveness_failures: list[str] = field(default_factory=list)
    state: str = ""
    answers_acked: dict[str, str] = field(default_factory=dict)
    answers_flagged: int = 0
    recording_s: float = 0.0
    recording_from: datetime | None = None  # when the desktop camera started recording
    streams: dict[str, Any] = field(default_factory=dict)  # kind -> Recorder
    errors: list[str] = field(default_factory=list)


class SimCandidate:
    def __init__(self, plan: CandidatePlan, stubs: Stubs, sitting_id: str, timeline: Timeline, questions: int,
                 media: Any, log: Callable[[str, str], None]) -> None:
        self.plan, self.stubs, self.timeline, self.questions = plan, stubs, timeline, questions
        self.media, self.log = media, log
        self.cid = plan.cid
        self.ids = {"sitting_id": sitting_id, "candidate_id": plan.cid}
        self.device = c.DeviceInfo(kind=c.DEVICE_KIND_DESKTOP, device_id=f"desk-{plan.cid}")
        self.md: Metadata = ()
        self.phone_md: Metadata = ()
        self.out = Outcome()
        self.offline = False
        self.seq = 0
        self.ops: list[pb.OfflineOp] = []
        self.offline_answers: dict[str, str] = {}
        self.beats: asyncio.Task[None] | None = None

    # --- face login ---------------------------------------------------------------------------------------
    async def face_login(self, rep: liveness.Repertoire | None) -> str:
        auth = self.stubs.auth
        for _ in range(MAX_CHALLENGES if rep is not None and rep.possible() else 0):
            try:
                challenge = await retried(lambda: auth.StartLivenessChallenge(apb.StartLivenessChallengeRequest(
                    **self.ids, device=self.device)))
            except grpc.aio.AioRpcError as exc:
                if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                    await asyncio.sleep(5)
                    continue
                if exc.code() == grpc.StatusCode.NOT_FOUND:  # not enrolled: only staff can admit
                    break
                raise
            self.out.challenges += 1
            steps = liveness.steps_of(challenge)
            assert rep is not None
            if not rep.can(steps):
                self.out.unanswerable += 1
                await asyncio.sleep(1.0)  # the person asks for another challenge
                continue
            issued = challenge.server_time.ToDatetime(UTC)
            frames = await asyncio.to_thread(liveness.answer, rep, steps, issued + timedelta(seconds=0.4))
            await until(frames.frames[-1].capture_time.ToDatetime(UTC) + timedelta(seconds=0.1))  # filming
            verify = apb.VerifyLoginRequest(challenge_id=challenge.challenge_id, **self.ids, device=self.device,
                                            frames=frames)
            result = await retried(lambda verify=verify: auth.VerifyLogin(verify))
            if result.verified:
                self.out.login = "liveness"
                self.log(self.cid, f"face login by liveness [{', '.join(steps)}]")
                return result.session_token
            reasons = ",".join(apb.LoginFailureReason.Name(f.reason).removeprefix("LOGIN_FAILURE_REASON_")
                               for f in result.failures)
            self.out.liveness_failures.append(f"{'/'.join(steps)}: {reasons}")
            if len(self.out.liveness_failures) >= MAX_LIVENESS_FAILURES:
                break
        admit = apb.StaffOverrideRequest(
            **self.ids, kind=apb.OVERRIDE_KIND_ADMIT, device_id=self.device.device_id,
            reason="simulator: the candidate's footage cannot show the requested head movements",
            client_request_id=f"{self.ids['sitting_id']}-{self.cid}")
        override = await retried(lambda: auth.StaffOverride(admit, metadata=self.stubs.staff))
        claimed = await retried(lambda: auth.ClaimOverride(apb.ClaimOverrideRequest(
            **self.ids, claim_code=override.claim_code, device=self.device)))
        self.out.login = "override"
        self.log(self.cid, "admitted by the audited staff override")
        return claimed.session_token

    # --- before the exam ----------------------------------------------------------------------------------
    async def prepare(self, rep: liveness.Repertoire | None) -> None:
        token = await self.face_login(rep)
        self.md = (("authorization", f"Bearer {token}"),)
        await retried(lambda: self.stubs.exam.Login(pb.LoginRequest(**self.ids, face_login_token=token)))
        code = await retried(lambda: self.stubs.exam.IssueBindCode(pb.IssueBindCodeRequest(**self.ids),
                                                                   metadata=self.md))
        bound = await retried(lambda: self.stubs.exam.BindPhone(pb.BindPhoneRequest(
            qr_payload=code.qr_payload, device=c.DeviceInfo(kind=c.DEVICE_KIND_PHONE, device_id=f"phone-{self.cid}"))))
        self.phone_md = (("authorization", f"Bearer {bound.device_token}"),)
        self.beats = asyncio.create_task(self.heartbeats(self.timeline.end))  # both devices, from now on
        scan = self.recorder(c.STREAM_KIND_PHONE_ROOM_SCAN)
        await scan.open()
        for _ in self.media.scan:
            scan.record()
        closed = await scan.close()
        self.out.streams["room_scan"] = scan
        if not closed.verification.verified:
            self.out.errors.append("room scan not verified")
        for _ in range(200):
            status = await retried(lambda: self.stubs.exam.GetCandidateState(
                pb.GetCandidateStateRequest(**self.ids), metadata=self.md))
            if status.candidate.state == c.CANDIDATE_STATE_ROOM_SCANNED:
                break
            await asyncio.sleep(0.2)
        await until(self.timeline.waiting_opens + timedelta(seconds=0.5))
        await retried(lambda: self.stubs.exam.EnterWaitingRoom(pb.EnterWaitingRoomRequest(**self.ids),
                                                               metadata=self.md))

    def recorder(self, kind: int) -> Recorder:
        phone = kind in (c.STREAM_KIND_PHONE_EVIDENCE, c.STREAM_KIND_PHONE_ROOM_SCAN)
        fmt = self.media.vp9 if kind == c.STREAM_KIND_PHONE_ROOM_SCAN else self.media.h264
        return Recorder(self.stubs, self.phone_md if phone else self.md, self.ids, kind, fmt,
                        self.media.feed(self.plan, kind), self.media.seconds[kind])

    # --- the exam -----------------------------------------------------------------------------------------
    async def sit(self) -> None:
        await until(self.timeline.start + timedelta(seconds=0.5))
        await retried(lambda: self.stubs.exam.Enter(pb.EnterRequest(**self.ids), metadata=self.md))
        recorders = {k: self.recorder(k) for k in (c.STREAM_KIND_DESKTOP_CAMERA, c.STREAM_KIND_DESKTOP_SCREEN,
                                                   c.STREAM_KIND_PHONE_EVIDENCE)}
        for r in recorders.values():
            await r.open()
        self.out.streams.update({c.StreamKind.Name(k).removeprefix("STREAM_KIND_").lower(): r
                                 for k, r in recorders.items()})
        entered = now()
        end = self.timeline.end
        tasks = [asyncio.create_task(r.run(end, lambda: not self.offline)) for r in recorders.values()]
        tasks += [asyncio.create_task(self.answers(entered, end)), asyncio.create_task(self.telemetry(entered))]
        if self.plan.drop is not None and self.plan.drop.at_s is not None:
            tasks.append(asyncio.create_task(self.network_drop(entered)))
        await asyncio.gather(*tasks)
        self.out.recording_s = len(recorders[c.STREAM_KIND_DESKTOP_CAMERA].recorded) * self.media.segment_s
        self.out.recording_from = recorders[c.STREAM_KIND_DESKTOP_CAMERA].started
        await until(end + timedelta(seconds=0.5))
        finish = pb.FinishRequest(**self.ids, client_request_id=uuid.uuid4().hex)
        await retried(lambda: self.stubs.exam.Finish(finish, metadata=self.md))
        for name, r in recorders.items():
            closed = await r.close()
            if not closed.verification.verified:
                self.out.errors.append(f"{c.StreamKind.Name(name)} not verified")
            self.out.errors += r.notes

    async def heartbeats(self, end: datetime) -> None:
        """Both devices' heartbeats, as often as the server asks (``next_heartbeat_in``; 3 s until it answers)."""
        every = 3.0
        while now() < end:
            if not self.offline:
                with contextlib.suppress(grpc.aio.AioRpcError):
                    for kind, md in ((c.DEVICE_KIND_DESKTOP, self.md), (c.DEVICE_KIND_PHONE, self.phone_md)):
                        got = await self.stubs.exam.Heartbeat(pb.HeartbeatRequest(
                            **self.ids, device_kind=kind, client_time=ts(now())), metadata=md)
                        every = got.next_heartbeat_in.ToTimedelta().total_seconds() or every
            await asyncio.sleep(every)

    async def answers(self, entered: datetime, end: datetime) -> None:
        span = (end - entered).total_seconds() - 4
        for i in range(self.questions):
            await until(entered + timedelta(seconds=span * (i + 1) / (self.questions + 1)))
            option = "ABCD"[(i * 7 + int(self.cid[1:])) % 4]
            if self.offline:
                self._offline_op(save=pb.OfflineSave(question_id=f"q{i}", answer=pb.AnswerPayload(
                    single_choice=option)))
                self.offline_answers[f"q{i}"] = option
                if i + 1 < self.questions:
                    self._offline_op(advance=pb.OfflineAdvance(from_question_id=f"q{i}"))
                continue
            save = pb.SaveAnswerRequest(**self.ids, question_id=f"q{i}", answer=pb.AnswerPayload(single_choice=option),
                                        client_request_id=uuid.uuid4().hex)
            advance = pb.AdvanceRequest(**self.ids, from_question_id=f"q{i}", client_request_id=uuid.uuid4().hex)
            try:
                await retried(lambda save=save: self.stubs.exam.SaveAnswer(save, metadata=self.md))
                self.out.answers_acked[f"q{i}"] = option
                if i + 1 < self.questions:
                    await retried(lambda advance=advance: self.stubs.exam.Advance(advance, metadata=self.md))
            except grpc.aio.AioRpcError as exc:
                self.out.errors.append(f"q{i}: {exc.code().name} {exc.details()}")

    def _offline_op(self, **op: Any) -> None:
        self.ops.append(pb.OfflineOp(client_request_id=uuid.uuid4().hex, client_sequence=len(self.ops),
                                     client_time=ts(now()), **op))

    async def network_drop(self, entered: datetime) -> None:
        drop = self.plan.drop
        assert drop is not None and drop.at_s is not None
        await until(entered + timedelta(seconds=drop.at_s))
        self.offline, drop.start = True, now()
        self.log(self.cid, f"network lost for {drop.seconds:.0f} s (answers and recordings kept locally)")
        await asyncio.sleep(drop.seconds)
        self.offline, drop.end = False, now()
        await retried(lambda: self.stubs.exam.Heartbeat(pb.HeartbeatRequest(
            **self.ids, device_kind=c.DEVICE_KIND_DESKTOP, client_time=ts(now())), metadata=self.md))
        if self.ops:
            sync = pb.SyncOfflineAnswersRequest(**self.ids, ops=self.ops)
            result = await retried(lambda: self.stubs.exam.SyncOfflineAnswers(sync, metadata=self.md))
            outcomes = {r.client_request_id: r.outcome for r in result.results}
            for op in self.ops:
                if op.WhichOneof("op") != "save":
                    continue
                outcome = outcomes.get(op.client_request_id)
                if outcome in (pb.OFFLINE_OP_OUTCOME_APPLIED, pb.OFFLINE_OP_OUTCOME_DUPLICATE):
                    self.out.answers_acked[op.save.question_id] = op.save.answer.single_choice
                elif outcome == pb.OFFLINE_OP_OUTCOME_FLAGGED:
                    self.out.answers_flagged += 1
            self.log(self.cid, f"reconnected: {len(self.ops)} offline ops synced")
            self.ops = []

    async def telemetry(self, entered: datetime) -> None:
        events: list[tuple[float, Injection | None, int, int]] = []
        for injected in self.plan.injections:
            inj: Injection | None = injected
            if injected.kind == SECOND_MONITOR:
                events += [(injected.at_s, inj, c.TELEMETRY_KIND_DISPLAY_COUNT, 2),
                           (injected.at_s + injected.seconds, inj, c.TELEMETRY_KIND_DISPLAY_COUNT, 1)]
            elif injected.kind == FOCUS_LOST:
                events += [(injected.at_s, inj, c.TELEMETRY_KIND_FOCUS_LOST, 0),
                           (injected.at_s + injected.seconds, inj, c.TELEMETRY_KIND_FOCUS_GAINED, 0)]
        for at in self.plan.blips:  # a notification popped up: the window loses focus for a second
            events += [(at, None, c.TELEMETRY_KIND_FOCUS_LOST, 0), (at + 1.0, None, c.TELEMETRY_KIND_FOCUS_GAINED, 0)]
        for at, inj, kind, value in sorted(events, key=lambda e: e[0]):
            await until(entered + timedelta(seconds=at))
            self.seq += 1
            when = now()
            report = pb.ReportTelemetryRequest(
                **self.ids, device_kind=c.DEVICE_KIND_DESKTOP, device_id=self.device.device_id,
                samples=[c.TelemetrySample(kind=kind, sequence=self.seq, value=value, client_time=ts(when))])
            await retried(lambda report=report: self.stubs.exam.ReportTelemetry(report, metadata=self.md))
            if inj is not None:
                if inj.start is None:
                    inj.start = when
                else:
                    inj.end = when

    async def run(self, rep: liveness.Repertoire | None) -> Outcome:
        started = time.monotonic()
        await until(self.timeline.login_opens + timedelta(seconds=self.plan.login_at_s))
        try:
            await self.prepare(rep)
            await self.sit()
        except grpc.aio.AioRpcError as exc:
            self.out.errors.append(f"{exc.code().name}: {exc.details()}")
            self.log(self.cid, f"stopped: {exc.code().name} {exc.details()}")
        finally:
            if self.beats is not None:
                self.beats.cancel()
        self.log(self.cid, f"done in {time.monotonic() - started:.0f} s")
        return self.out

"""The local sitting end to end: real service processes, a compressed timeline, scripted candidates.

What exists so far is exercised for real: exam-session and auth-face as their own processes on
PostgreSQL and Kafka, the sitting created from a spec, the candidate list imported from a CSV
through the same code as ``proctor import-candidates``, every candidate enrolled in auth-face from a
real photo, and scripted candidates driving the gRPC API as the desktop client and the phone app
would. A scripted client cannot turn its head on request: one candidate shows that holding up a
photo fails the liveness challenge, and then staff admit each candidate through auth-face's
audited override (claim code -> real auth-face session token). Answering the liveness challenge
with real clip frames is the simulator's job (issue 9). The phone uploads the 360° room scan to
media-ingest (its verified close moves the candidate to ROOM_SCANNED), the desktop records camera
and screen and the phone its evidence video during the exam, and the processing worker probes,
normalises and stitches every segment (``demo_media``).
"""

from __future__ import annotations

import asyncio
import csv
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from confluent_kafka import Consumer

from proctor.auth.v1 import auth_face_pb2 as apb
from proctor.auth.v1 import auth_face_pb2_grpc
from proctor.common.v1 import common_pb2
from proctor.events.v1 import incident_pb2, media_pb2, session_pb2
from proctor.exam.v1 import exam_session_pb2 as pb
from proctor.exam.v1 import exam_session_pb2_grpc
from proctor.media.v1 import media_ingest_pb2 as mpb
from proctor.media.v1 import media_ingest_pb2_grpc
from proctor.notify.v1 import notify_pb2_grpc
from proctor_cli import commands_exam, demo_media, sitting_spec
from proctor_cli.demo_media import Recorder
from proctor_cli.demo_proctor import ProctorDesk
from proctor_cli.local import SERVICES, LocalStack, port_base
from proctor_runtime.devinfra import InfraSettings
from proctor_runtime.devinfra.keys import keyring
from proctor_runtime.events import ts
from proctor_runtime.interceptor import ERROR_DETAIL_KEY
from proctor_runtime.kafka import start_group_at_end
from proctor_runtime.tokens import Role, TokenSigner
from proctor_runtime.topics import (
    CLIENT_TELEMETRY,
    HELP_MESSAGES,
    INCIDENTS,
    MEDIA_SEGMENTS_STORED,
    MEDIA_STREAMS,
    NOTIFICATIONS,
    SESSION_EVENTS,
)

CROWDED = "c-bob"  # whose camera shows other people in the room (anomaly: MULTIPLE_FACES)
CANDIDATES = [  # id, name, room, script
    ("c-alice", "Alice 李", "room-1", "honest"),
    ("c-bob", "Bob 王", "room-1", "impatient"),
    ("c-carol", "Carol 张", "room-2", "offline"),
    ("c-dave", "Dave 刘", "room-2", "late"),
    ("c-erin", "Erin 陈", "room-2", "leaves"),
]


@dataclass
class Log:
    lines: list[str] = field(default_factory=list)
    t0: float = field(default_factory=time.monotonic)

    def __call__(self, who: str, what: str) -> None:
        line = f"[{time.monotonic() - self.t0:6.1f}s] {who:<8} {what}"
        self.lines.append(line)
        print(line, file=sys.stderr, flush=True)


def _reason(exc: grpc.aio.AioRpcError) -> str:
    for key, value in exc.trailing_metadata() or ():
        if key == ERROR_DETAIL_KEY:
            detail = common_pb2.ErrorDetail.FromString(value)
            return f"{exc.code().name} {detail.reason}: {detail.message_zh} / {detail.message_en}"
    return f"{exc.code().name}: {exc.details()}"


class Candidate:
    def __init__(self, stub: exam_session_pb2_grpc.ExamSessionStub, token: str, sitting_id: str,
                 cid: str, log: Log, media: Media | None = None) -> None:
        self.stub, self.sitting_id, self.cid, self.log = stub, sitting_id, cid, log
        self.media = media
        self.recorders: list[Recorder] = []
        self.token = token  # the session token auth-face issued
        self.md = (("authorization", f"Bearer {self.token}"),)
        self.ids = {"sitting_id": sitting_id, "candidate_id": cid}
        self.phone_md: tuple[tuple[str, str], ...] = ()

    async def try_(self, label: str, call: Any) -> Any:
        try:
            result = await call
        except grpc.aio.AioRpcError as exc:
            self.log(self.cid, f"{label}: refused — {_reason(exc)}")
            return None
        self.log(self.cid, f"{label}: ok")
        return result

    async def login_and_bind(self) -> None:
        await self.try_("face login", self.stub.Login(pb.LoginRequest(**self.ids, face_login_token=self.token)))
        code = await self.stub.IssueBindCode(pb.IssueBindCodeRequest(**self.ids), metadata=self.md)
        bound = await self.try_(f"phone binds with QR code {code.bind_code}", self.stub.BindPhone(
            pb.BindPhoneRequest(qr_payload=code.qr_payload, device=common_pb2.DeviceInfo(
                kind=common_pb2.DEVICE_KIND_PHONE, device_id=f"phone-{self.cid}"))))
        if bound:
            self.phone_md = (("authorization", f"Bearer {bound.device_token}"),)

    def recorder(self, kind: int) -> Recorder:
        assert self.media is not None
        crowded = self.cid == CROWDED and kind == common_pb2.STREAM_KIND_DESKTOP_CAMERA
        fmt, clip = self.media.sources[demo_media.CROWD if crowded else kind]
        phone = kind in (common_pb2.STREAM_KIND_PHONE_EVIDENCE, common_pb2.STREAM_KIND_PHONE_ROOM_SCAN)
        return Recorder(self.media.stub, self.phone_md if phone else self.md, self.sitting_id, self.cid, kind, fmt,
                        clip)

    async def room_scan(self) -> None:
        """The phone films the room (360°), uploads it and closes the stream; exam-session hears of the
        verified recording from Kafka and moves the candidate to ROOM_SCANNED."""
        scan = self.recorder(common_pb2.STREAM_KIND_PHONE_ROOM_SCAN)
        await scan.open()
        for _ in scan.clip:
            scan.record_one()
        await scan.flush()
        closed = await scan.close()
        self.log(self.cid, f"phone uploads the 360° room scan ({len(scan.recorded)} segments): "
                 + ("verified" if closed.verification.verified else "NOT verified"))
        for _ in range(100):
            status = await self.stub.GetCandidateState(pb.GetCandidateStateRequest(**self.ids), metadata=self.md)
            if status.candidate.state == common_pb2.CANDIDATE_STATE_ROOM_SCANNED:
                return
            await asyncio.sleep(0.1)

    async def start_recording(self) -> None:
        self.recorders = [self.recorder(k) for k in (common_pb2.STREAM_KIND_DESKTOP_CAMERA,
                                                     common_pb2.STREAM_KIND_DESKTOP_SCREEN,
                                                     common_pb2.STREAM_KIND_PHONE_EVIDENCE)]
        for r in self.recorders:
            await r.open()

    async def finish_uploads(self) -> None:
        for r in self.recorders:
            await r.flush()
            closed = await r.close()
            kind = common_pb2.StreamKind.Name(r.kind).replace("STREAM_KIND_", "").lower()
            self.log(self.cid, f"{kind} recording: {len(r.recorded)} segments uploaded, "
                     + ("verified" if closed.verification.verified else "NOT verified"))

    async def heartbeat(self, phone: bool = False) -> None:
        kind = common_pb2.DEVICE_KIND_PHONE if phone else common_pb2.DEVICE_KIND_DESKTOP
        await self.stub.Heartbeat(pb.HeartbeatRequest(**self.ids, device_kind=kind,
                                                      client_time=ts(datetime.now(UTC))),
                                  metadata=self.phone_md if phone else self.md)

    async def answer_all(self, questions: int, offline_from: int | None = None) -> list[pb.OfflineOp]:
        """Answer every question in order; from ``offline_from`` on, only log the ops locally."""
        offline: list[pb.OfflineOp] = []
        for i in range(questions):
            option = "ABCD"[(i + len(self.cid)) % 4]
            if offline_from is not None and i >= offline_from:
                now = ts(datetime.now(UTC))
                offline.append(pb.OfflineOp(client_request_id=uuid.uuid4().hex, client_sequence=2 * i,
                                            client_time=now, save=pb.OfflineSave(
                                                question_id=f"q{i}", answer=pb.AnswerPayload(single_choice=option))))
                if i + 1 < questions:
                    offline.append(pb.OfflineOp(client_request_id=uuid.uuid4().hex, client_sequence=2 * i + 1,
                                                client_time=now, advance=pb.OfflineAdvance(from_question_id=f"q{i}")))
                continue
            await self.stub.SaveAnswer(pb.SaveAnswerRequest(**self.ids, question_id=f"q{i}",
                                                            answer=pb.AnswerPayload(single_choice=option),
                                                            client_request_id=uuid.uuid4().hex), metadata=self.md)
            if i + 1 < questions:
                await self.stub.Advance(pb.AdvanceRequest(**self.ids, from_question_id=f"q{i}",
                                                          client_request_id=uuid.uuid4().hex), metadata=self.md)
        return offline


def _spec(sitting_id: str, start: datetime) -> dict[str, Any]:
    return {"sitting_id": sitting_id, "name": "本地演示 local demo sitting", "kind": "formal",
            "timeline": {"start": start.isoformat(), "duration": "60s", "login_opens": "-25s",
                         "waiting_room_opens": "-15s", "last_entry": "+20s", "upload_deadline": "+25s"},
            "questions": [{"id": f"q{i}", "type": "single_choice", "options": list("ABCD"),
                           "content": f"bank://demo/q{i}"} for i in range(6)],
            "policy": {"require_room_scan": True, "abandon_grace": "8s", "heartbeat_interval": "2s"}}


async def run() -> dict[str, Any]:
    infra = InfraSettings()
    # anomaly starts at the end of its inputs: earlier local runs' recordings are not this sitting's
    group = f"anomaly-demo-{uuid.uuid4().hex[:6]}"
    start_group_at_end(infra.kafka_bootstrap, group, [MEDIA_SEGMENTS_STORED.name, CLIENT_TELEMETRY.name,
                                                      SESSION_EVENTS.name])
    notify_group = f"notify-demo-{uuid.uuid4().hex[:6]}"
    start_group_at_end(infra.kafka_bootstrap, notify_group, [INCIDENTS.name, SESSION_EVENTS.name, HELP_MESSAGES.name,
                                                             NOTIFICATIONS.name, MEDIA_STREAMS.name])
    stack = LocalStack(infra, extra_env={"SWEEP_INTERVAL_S": "0.5"},
                       service_env={"anomaly": {"KAFKA_GROUP_ID": group}, "notify": {"KAFKA_GROUP_ID": notify_group}})
    log = Log()
    try:
        exam = await stack.start("exam-session")
        log("demo", f"exam-session serving on {exam.target} (metrics :{exam.metrics_port})")
        auth = await stack.start("auth-face", timeout_s=180)
        log("demo", f"auth-face serving on {auth.target} (model pack loaded and warm)")
        ingest = await stack.start("media-ingest")
        worker = await stack.start("media-worker")
        log("demo", f"media-ingest serving on {ingest.target}; processing worker up (metrics :{worker.metrics_port})")
        anomaly = await stack.start("anomaly", timeout_s=180)
        log("demo", f"anomaly watching segments and telemetry (metrics :{anomaly.metrics_port})")
        notify = await stack.start("notify")
        log("demo", f"notify serving on {notify.target}; proctor console at {console_url()} "
            "(token: proctor token issue --role proctor --sub p1 --sitting <sitting> --rooms room-1)")
        media_sources = await asyncio.to_thread(demo_media.sources, infra.state / "cache")
        async with grpc.aio.insecure_channel(ingest.target) as channel, \
                grpc.aio.insecure_channel(notify.target) as notify_channel:
            media = Media(media_ingest_pb2_grpc.MediaIngestStub(channel), media_sources)
            return await _sitting(exam.target, auth.target, infra, log, media,
                                  notify_pb2_grpc.NotifyStub(notify_channel))
    finally:
        await stack.stop()


@dataclass
class Media:
    stub: media_ingest_pb2_grpc.MediaIngestStub
    sources: dict[int, tuple[common_pb2.MediaFormat, list[bytes]]]


def console_url() -> str:
    return f"http://127.0.0.1:{port_base() + SERVICES['notify'][3] + 2}/"


async def _sitting(target: str, auth_target: str, infra: InfraSettings, log: Log, media: Media,
                   notify: notify_pb2_grpc.NotifyStub) -> dict[str, Any]:
    keys = keyring(infra)
    admin = TokenSigner(keys.signing["admin"])
    staff = (("authorization", f"Bearer {admin.issue(sub='demo-staff', role=Role.STAFF, ttl_s=3600)[0]}"),)
    sitting_id = f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    start = datetime.now(UTC) + timedelta(seconds=25)
    async with grpc.aio.insecure_channel(target) as channel:
        stub = exam_session_pb2_grpc.ExamSessionStub(channel)
        sitting = await stub.CreateSitting(pb.CreateSittingRequest(
            sitting=sitting_spec.to_proto(_spec(sitting_id, start))), metadata=staff)
        log("staff", f"sitting {sitting_id} created: start {start:%H:%M:%S}, last entry +20 s, end +60 s")
        csv_path = infra.state / "demo" / f"{sitting_id}.csv"
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        with csv_path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["candidate_id", "name", "id_photo", "sitting_id", "room_id"])
            writer.writerows([cid, name, f"photos/{cid}.jpg", sitting_id, room] for cid, name, room, _ in CANDIDATES)
        rows, _ = commands_exam.read_candidates(csv_path)
        imported = await stub.ImportCandidates(pb.ImportCandidatesRequest(rows=rows), metadata=staff)
        log("staff", f"imported {imported.created} candidates from {csv_path.name}")
        camera = media.sources[common_pb2.STREAM_KIND_DESKTOP_CAMERA][1][0]
        id_photo = await asyncio.to_thread(demo_media.camera_photo, camera, infra.state / "cache")
        tokens = await _face_gate(auth_target, sitting_id, staff, log, id_photo)
        people = {cid: Candidate(stub, tokens[cid], sitting_id, cid, log, media) for cid, _, _, _ in CANDIDATES}
        scripts = {cid: script for cid, _, _, script in CANDIDATES}
        desk = ProctorDesk(notify, admin, sitting_id, sorted({room for _, _, room, _ in CANDIDATES}), log)
        await desk.open()
        console_token = admin.issue(sub="console-demo", role=Role.CHIEF_PROCTOR, ttl_s=3600, sitting_id=sitting_id)[0]
        log("demo", f"proctor console {console_url()} — chief proctor token for this sitting: {console_token}")
        for cid, person in people.items():
            desk.follow_candidate(cid, person.md)
        end = sitting.timeline.end.ToDatetime(UTC)
        deadline = sitting.timeline.upload_deadline.ToDatetime(UTC)
        await asyncio.gather(*(_play(people[cid], scripts[cid], start, end, len(sitting.questions))
                               for cid in people))
        await _wait_until(deadline + timedelta(seconds=2))
        await asyncio.sleep(2)  # the last upload notices
        await desk.close()
        proctors = desk.summary()
        log("proctors", f"incidents on the consoles: {proctors['incidents_delivered']}, verdicts "
            f"{proctors['verdicts']}, help replies {proctors['help_replies']}, detection -> console p99 "
            f"{proctors['detection_to_proctor_p99_ms']} ms; notices shown: {proctors['notices_shown']}")
        states = {}
        for cid in people:
            status = await stub.GetCandidateState(pb.GetCandidateStateRequest(sitting_id=sitting_id,
                                                                              candidate_id=cid), metadata=staff)
            states[cid] = common_pb2.CandidateState.Name(status.candidate.state).replace("CANDIDATE_STATE_", "")
            sheet = await stub.ExportAnswerSheet(pb.ExportAnswerSheetRequest(
                sitting_id=sitting_id, candidate_id=cid, allow_partial=True), metadata=staff) \
                if status.candidate.attempt_number else None
            answered = sum(1 for a in sheet.answers if a.answer.WhichOneof("value")) if sheet else 0
            flagged = sum(len(a.flagged) for a in sheet.answers) if sheet else 0
            upload = await _upload_summary(media, sitting_id, cid, staff)
            log("result", f"{cid}: {states[cid]}, {answered} answers, {flagged} flagged, recordings {upload}"
                + (f", zero score ({status.zero_score_reason})" if status.candidate.zero_score else ""))
    events = await asyncio.to_thread(_count_events, infra.kafka_bootstrap, sitting_id)
    log("kafka", f"{events['session_events']} session events, incidents: {events['incidents']}")
    log("kafka", f"media: {events['media_stream_events']}; segments processed: {events['segments_processed']}")
    return {"sitting_id": sitting_id, "states": states, **events, "proctors": proctors,
            "console_url": console_url(), "log": log.lines}


async def _upload_summary(media: Media, sitting_id: str, cid: str, staff: Any) -> str:
    try:
        status = await media.stub.GetUploadStatus(mpb.GetUploadStatusRequest(sitting_id=sitting_id, candidate_id=cid),
                                                  metadata=staff)
    except grpc.aio.AioRpcError:
        return "none"
    p = status.progress
    return (f"{p.streams_verified}/{p.streams_total} verified, {p.bytes_committed / 1e6:.1f} MB"
            + (", complete" if p.complete else ", INCOMPLETE"))


def _webcam_frame(photo: bytes) -> bytes:
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(photo, np.uint8), cv2.IMREAD_COLOR)
    scale = min(640 / image.shape[1], 480 / image.shape[0], 1.0)
    small = cv2.resize(image, (int(image.shape[1] * scale), int(image.shape[0] * scale)))
    return cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()


async def _face_gate(target: str, sitting_id: str, staff: Any, log: Log, id_photo: bytes) -> dict[str, str]:
    """Enrol every candidate from a real photo, show a held-up photo failing liveness, then admit each
    candidate through the audited staff override; returns auth-face session tokens."""
    # the person the demo's desktop camera shows: every candidate's ID photo, so that anomaly's
    # identity re-checks during the exam compare like with like (Bob's camera shows a group instead)
    photos = [("a frame of the desktop camera clip", id_photo)]
    tokens: dict[str, str] = {}
    async with grpc.aio.insecure_channel(target) as channel:
        auth = auth_face_pb2_grpc.AuthFaceStub(channel)
        for i, (cid, _, _, _) in enumerate(CANDIDATES):
            label, photo = photos[i % len(photos)]
            enrolled = await auth.EnrolCandidate(apb.EnrolCandidateRequest(
                sitting_id=sitting_id, candidate_id=cid, id_photo=photo), metadata=staff)
            issues = ", ".join(apb.QualityIssueCode.Name(x.code) for x in enrolled.quality.issues) or "none"
            log(cid, f"enrolled from a real photo ({label}): {enrolled.enrolled}, quality issues: {issues}")
        cid, device = CANDIDATES[0][0], common_pb2.DeviceInfo(kind=common_pb2.DEVICE_KIND_DESKTOP,
                                                              device_id=f"desk-{CANDIDATES[0][0]}")
        challenge = await auth.StartLivenessChallenge(apb.StartLivenessChallengeRequest(
            sitting_id=sitting_id, candidate_id=cid, device=device))
        steps = ", ".join(apb.LivenessAction.Name(s.action).replace("LIVENESS_ACTION_", "") for s in challenge.steps)
        now = datetime.now(UTC)
        held_up = _webcam_frame(photos[0][1])  # the ID photo held up to a 640x480 webcam
        frames = apb.FrameSet(frames=[apb.CapturedFrame(jpeg=held_up, capture_time=ts(now + timedelta(
            milliseconds=120 * k)), step_index=min(k // 4, len(challenge.steps) - 1)) for k in range(12)])
        result = await auth.VerifyLogin(apb.VerifyLoginRequest(challenge_id=challenge.challenge_id,
                                                               sitting_id=sitting_id, candidate_id=cid,
                                                               device=device, frames=frames))
        failures = ", ".join(apb.LoginFailureReason.Name(f.reason).replace("LOGIN_FAILURE_REASON_", "")
                             for f in result.failures)
        log(cid, f"face login holding up a photo for challenge [{steps}]: verified={result.verified} "
            f"({failures}); {result.attempts_remaining} attempts left")
        for cid, _, _, _ in CANDIDATES:
            device = common_pb2.DeviceInfo(kind=common_pb2.DEVICE_KIND_DESKTOP, device_id=f"desk-{cid}")
            override = await auth.StaffOverride(apb.StaffOverrideRequest(
                sitting_id=sitting_id, candidate_id=cid, kind=apb.OVERRIDE_KIND_ADMIT, device_id=device.device_id,
                reason="demo: scripted client cannot follow head-movement prompts",
                client_request_id=f"{sitting_id}-{cid}"), metadata=staff)
            claimed = await auth.ClaimOverride(apb.ClaimOverrideRequest(
                sitting_id=sitting_id, candidate_id=cid, claim_code=override.claim_code, device=device))
            tokens[cid] = claimed.session_token
        log("staff", f"admitted {len(tokens)} candidates by audited override; auth-face issued their session tokens")
    return tokens


async def _wait_until(when: datetime) -> None:
    delay = (when - datetime.now(UTC)).total_seconds()
    if delay > 0:
        await asyncio.sleep(delay)


async def _play(c: Candidate, script: str, start: datetime, end: datetime, questions: int) -> None:
    if script == "late":
        await _wait_until(start + timedelta(seconds=22))
        await c.try_("face login after the last entry", c.stub.Login(pb.LoginRequest(
            **c.ids, face_login_token=c.token)))
        return
    await c.login_and_bind()
    beats = asyncio.create_task(_heartbeats(c, end, stop_after=None if script != "leaves" else 33.0))
    await c.room_scan()
    await _wait_until(start - timedelta(seconds=14))
    await c.try_("enter the waiting room", c.stub.EnterWaitingRoom(pb.EnterWaitingRoomRequest(**c.ids),
                                                                   metadata=c.md))
    if script == "impatient":
        await c.try_("enter before the start", c.stub.Enter(pb.EnterRequest(**c.ids), metadata=c.md))
    await _wait_until(start + timedelta(seconds=1))
    entered = await c.try_("enter the exam", c.stub.Enter(pb.EnterRequest(**c.ids), metadata=c.md))
    if entered is None:
        beats.cancel()
        return
    await c.start_recording()
    offline = (datetime.now(UTC) + timedelta(seconds=6), end + timedelta(seconds=3)) if script == "offline" else None
    stop_at = datetime.now(UTC) + timedelta(seconds=12) if script == "leaves" else end
    recording = asyncio.gather(*(r.record_until(stop_at, offline) for r in c.recorders))
    if script == "offline":
        ops = await c.answer_all(questions, offline_from=2)
        c.log(c.cid, f"network lost: {len(ops)} answers and the recordings kept offline")
        beats.cancel()
        await _wait_until(end + timedelta(seconds=3))
        await c.heartbeat()
        result = await c.try_("reconnects and syncs offline answers", c.stub.SyncOfflineAnswers(
            pb.SyncOfflineAnswersRequest(**c.ids, ops=ops), metadata=c.md))
        if result:
            outcomes = Counter(pb.OfflineOpOutcome.Name(r.outcome) for r in result.results)
            c.log(c.cid, f"offline sync: {dict(outcomes)}")
        await recording
        await c.finish_uploads()
        return
    if script == "leaves":
        await c.answer_all(2)
        await recording
        c.log(c.cid, "closes the client and never comes back (recordings stay incomplete)")
        await beats
        return
    if script == "impatient":
        await c.try_("plugs in a second monitor", c.stub.ReportTelemetry(pb.ReportTelemetryRequest(
            **c.ids, device_kind=common_pb2.DEVICE_KIND_DESKTOP, device_id=f"desk-{c.cid}",
            samples=[common_pb2.TelemetrySample(kind=common_pb2.TELEMETRY_KIND_DISPLAY_COUNT, sequence=1, value=2,
                                                client_time=ts(datetime.now(UTC)))]), metadata=c.md))
    if script == "honest":
        await c.try_("asks for help (求助)", c.stub.SendHelpMessage(pb.SendHelpMessageRequest(
            **c.ids, text="耳机没有声音，需要声音吗？ / My headset is silent; do I need sound?",
            client_message_id="help-1", client_time=ts(datetime.now(UTC))), metadata=c.md))
    await c.answer_all(questions)
    if script == "impatient":
        await c.try_("submit early", c.stub.Finish(pb.FinishRequest(**c.ids), metadata=c.md))
    await recording
    await _wait_until(end + timedelta(seconds=1))
    await c.try_("confirm the end", c.stub.Finish(pb.FinishRequest(**c.ids), metadata=c.md))
    await c.finish_uploads()
    beats.cancel()


async def _heartbeats(c: Candidate, end: datetime, stop_after: float | None) -> None:
    started = time.monotonic()
    while datetime.now(UTC) < end + timedelta(seconds=2):
        if stop_after is not None and time.monotonic() - started > stop_after:
            return
        try:
            await c.heartbeat()
            await c.heartbeat(phone=True)
        except grpc.aio.AioRpcError:
            pass
        await asyncio.sleep(2)


def _count_events(bootstrap: str, sitting_id: str) -> dict[str, Any]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"demo-{uuid.uuid4().hex}",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([SESSION_EVENTS.name, INCIDENTS.name, MEDIA_STREAMS.name, MEDIA_SEGMENTS_STORED.name])
    sessions, incidents, media, stored = 0, Counter[str](), Counter[str](), Counter[str]()
    idle_until = time.monotonic() + 8
    while time.monotonic() < idle_until:
        msg = consumer.poll(0.5)
        if msg is None or msg.error():
            continue
        if msg.topic() == SESSION_EVENTS.name:
            event = session_pb2.SessionEvent.FromString(msg.value())
            sessions += event.meta.sitting_id == sitting_id
        elif msg.topic() == MEDIA_STREAMS.name:
            ms = media_pb2.MediaStreamEvent.FromString(msg.value())
            if ms.meta.sitting_id == sitting_id:
                media[media_pb2.MediaStreamEventKind.Name(ms.kind).replace("MEDIA_STREAM_EVENT_KIND_", "")] += 1
        elif msg.topic() == MEDIA_SEGMENTS_STORED.name:
            seg = media_pb2.MediaSegmentStored.FromString(msg.value())
            if seg.meta.sitting_id == sitting_id:
                stored[media_pb2.ProcessingAction.Name(seg.action).replace("PROCESSING_ACTION_", "")] += 1
        else:
            inc = incident_pb2.IncidentEvent.FromString(msg.value())
            if inc.meta.sitting_id == sitting_id and inc.change == incident_pb2.INCIDENT_CHANGE_OPENED:
                incidents[common_pb2.IncidentKind.Name(inc.incident.kind).replace("INCIDENT_KIND_", "")] += 1
        idle_until = max(idle_until, time.monotonic() + 2)
    consumer.close()
    return {"session_events": sessions, "incidents": dict(incidents), "media_stream_events": dict(media),
            "segments_processed": dict(stored)}

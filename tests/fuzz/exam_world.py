"""A real exam-session in process (own database, real Kafka) with a sitting under fuzz: victim c0 and
fuzzee c1 in the exam (q0 locked, q1 answered), c2 registered, witness c3 never named by the fuzzer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from exam_harness import START, Harness, make_sitting, serve, setup_sitting, shut
from pydantic import SecretStr

from exam_session.config import Settings
from proctor.common.v1 import common_pb2
from proctor.exam.v1 import exam_session_pb2 as pb
from proctor_runtime.devinfra import PostgresCluster
from proctor_runtime.events import ts
from proctor_runtime.testing.helpers import bearer
from proctor_runtime.testing.plugin import start_group_at_end
from proctor_runtime.tokens import TokenSigner, generate_key
from proctor_runtime.topics import MEDIA_STREAMS, ensure_topics, new_topics

Metadata = tuple[tuple[str, str], ...]


@dataclass
class Walked:
    face_token: str
    desktop: Metadata
    phone: Metadata


@dataclass
class ExamWorld:
    h: Harness
    db: str
    publics: str
    signers: dict[str, TokenSigner]
    walked: dict[str, Walked]

    @property
    def sitting_id(self) -> str:
        return self.h.sitting_id


async def start_exam(postgres: PostgresCluster, kafka_bootstrap: str, extra_public: str = "") -> ExamWorld:
    ensure_topics(kafka_bootstrap, new_topics())
    keys = {name: generate_key(f"{name}-1") for name in ("auth-face", "admin", "exam-session", "media-ingest")}
    publics = ",".join(public for _, public in keys.values()) + (f",{extra_public}" if extra_public else "")
    db = f"fuzz_exam_{uuid.uuid4().hex[:10]}"
    postgres.psql(f'CREATE DATABASE "{db}"')
    group = f"exam-session-fuzz-{uuid.uuid4().hex[:6]}"
    start_group_at_end(kafka_bootstrap, group, [MEDIA_STREAMS.name])
    settings = Settings(
        database_url=SecretStr(postgres.settings.pg_dsn_for(db)), kafka_bootstrap=kafka_bootstrap,
        kafka_group_id=group, kafka_offset_reset="earliest", token_signing_key=SecretStr(keys["exam-session"][0]),
        token_public_keys=publics, sweep_interval_s=3600, shutdown_grace_s=1,
        bind_attempts_per_minute=1_000_000, help_messages_per_minute=1_000_000)
    h = await serve(settings, TokenSigner(keys["auth-face"][0]), TokenSigner(keys["admin"][0]))
    signers = {name: TokenSigner(signing) for name, (signing, _) in keys.items()}
    return ExamWorld(h, db, publics, signers, {})


async def stop_exam(world: ExamWorld, postgres: PostgresCluster) -> None:
    await shut(world.h)
    postgres.psql(f'DROP DATABASE IF EXISTS "{world.db}" WITH (FORCE)')


async def walk(h: Harness, cid: str, room_scan: bool = True) -> Walked:
    """Login, bind the phone (keeping its token), the room scan, the waiting room."""
    token = h.face_token(cid, f"desk-{cid}")
    await h.stub.Login(pb.LoginRequest(sitting_id=h.sitting_id, candidate_id=cid, face_login_token=token,
                                       device=common_pb2.DeviceInfo(kind=1, device_id=f"desk-{cid}")))
    md = bearer(token)
    code = await h.stub.IssueBindCode(pb.IssueBindCodeRequest(sitting_id=h.sitting_id, candidate_id=cid), metadata=md)
    bound = await h.stub.BindPhone(pb.BindPhoneRequest(bind_code=code.bind_code, device=common_pb2.DeviceInfo(
        kind=common_pb2.DEVICE_KIND_PHONE, device_id=f"phone-{cid}")))
    if room_scan:
        await h.logic.room_scan_recorded(h.sitting_id, cid, f"scan-{cid}")
    return Walked(token, md, bearer(bound.device_token))


async def sitting_in_exam(world: ExamWorld) -> None:
    """c0 and c1 answer q0 (locked) and q1; c2 registered; c3 (the witness) registered."""
    h = world.h
    await setup_sitting(h, candidates=4, rooms=("r1", "r2"))
    h.clock.move_to(START - timedelta(minutes=10))
    for cid in ("c0", "c1"):
        world.walked[cid] = w = await walk(h, cid)
        await h.stub.EnterWaitingRoom(pb.EnterWaitingRoomRequest(sitting_id=h.sitting_id, candidate_id=cid),
                                      metadata=w.desktop)
    h.clock.move_to(START + timedelta(minutes=5))
    for cid in ("c0", "c1"):
        md = world.walked[cid].desktop
        await h.stub.Enter(pb.EnterRequest(sitting_id=h.sitting_id, candidate_id=cid), metadata=md)
        await save(h, cid, "q0", "B", md)
        await h.stub.Advance(pb.AdvanceRequest(sitting_id=h.sitting_id, candidate_id=cid, from_question_id="q0",
                                               client_request_id=f"adv-{cid}-0"), metadata=md)
        await save(h, cid, "q1", "C", md)


async def save(h: Harness, cid: str, qid: str, option: str, md: Metadata) -> None:
    await h.stub.SaveAnswer(pb.SaveAnswerRequest(
        sitting_id=h.sitting_id, candidate_id=cid, question_id=qid, answer=pb.AnswerPayload(single_choice=option),
        client_request_id=f"save-{cid}-{qid}-{option}", client_time=ts(h.clock.now)), metadata=md)


def staff(world: ExamWorld) -> Metadata:
    return world.h.staff()


def token(world: ExamWorld, signer: str, **claims: object) -> Metadata:
    return bearer(world.signers[signer].issue(ttl_s=3600, now=world.h.clock.now.timestamp(), **claims)[0])


def exam_seeds(world: ExamWorld):
    """Valid requests per method for a set of ids (the victim's or the fuzzee's)."""
    h = world.h

    def seeds(method: str, ids: dict[str, str]) -> list[object] | None:
        sid, cid = ids["sitting_id"], ids["candidate_id"]
        now = ts(h.clock.now)
        table = {
            "CreateSitting": lambda: pb.CreateSittingRequest(sitting=make_sitting(sid, START)),
            "ImportCandidates": lambda: pb.ImportCandidatesRequest(rows=[pb.CandidateRow(
                line=2, candidate_id=cid, name="考生", sitting_id=sid, room_id="r1", id_photo_ref="p.jpg")]),
            "Login": lambda: pb.LoginRequest(sitting_id=sid, candidate_id=cid, face_login_token=ids["face_login_token"],
                                             device=common_pb2.DeviceInfo(kind=1, device_id=ids["device_id"])),
            "BindPhone": lambda: pb.BindPhoneRequest(bind_code="ZZZZZZZZ", device=common_pb2.DeviceInfo(
                kind=common_pb2.DEVICE_KIND_PHONE, device_id=f"phone-{cid}")),
            "SaveAnswer": lambda: pb.SaveAnswerRequest(sitting_id=sid, candidate_id=cid, question_id="q1",
                                                       answer=pb.AnswerPayload(single_choice="A"),
                                                       client_request_id="fuzz-save", client_time=now),
            "Advance": lambda: pb.AdvanceRequest(sitting_id=sid, candidate_id=cid, from_question_id="q1",
                                                 final_answer=pb.AnswerPayload(single_choice="D"),
                                                 client_request_id="fuzz-adv", client_time=now),
            "SyncOfflineAnswers": lambda: pb.SyncOfflineAnswersRequest(sitting_id=sid, candidate_id=cid, ops=[
                pb.OfflineOp(client_request_id="fuzz-off", client_sequence=1, client_time=now,
                             save=pb.OfflineSave(question_id="q1", answer=pb.AnswerPayload(single_choice="A")))]),
            "Heartbeat": lambda: pb.HeartbeatRequest(sitting_id=sid, candidate_id=cid, device_kind=1,
                                                     device_id=ids["device_id"], client_time=now, sequence=99),
            "ReportTelemetry": lambda: pb.ReportTelemetryRequest(
                sitting_id=sid, candidate_id=cid, device_kind=1, device_id=ids["device_id"],
                samples=[common_pb2.TelemetrySample(kind=1, sequence=7, value=2, client_time=now)]),
            "SendHelpMessage": lambda: pb.SendHelpMessageRequest(sitting_id=sid, candidate_id=cid, text="求助 help",
                                                                 client_message_id="fuzz-help", client_time=now),
            "StaffTransition": lambda: pb.StaffTransitionRequest(
                sitting_id=sid, candidate_id=cid, to_state=common_pb2.CANDIDATE_STATE_ABANDONED, reason="fuzz",
                client_request_id="fuzz-staff"),
            "ListCandidates": lambda: pb.ListCandidatesRequest(sitting_id=sid, room_ids=["r1"]),
            "ExportAnswerSheet": lambda: pb.ExportAnswerSheetRequest(sitting_id=sid, candidate_id=cid,
                                                                     allow_partial=True),
            "StreamAnswerSheets": lambda: pb.StreamAnswerSheetsRequest(sitting_id=sid, allow_partial=True),
        }
        make = table.get(method)
        return [make()] if make else None

    return seeds

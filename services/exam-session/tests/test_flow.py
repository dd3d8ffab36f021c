"""exam-session over gRPC against the real PostgreSQL and Kafka: the whole candidate flow and its
refusals."""

import asyncio
from datetime import timedelta

import grpc
import pytest
from exam_harness import START, bearer, make_sitting, refused, setup_sitting, walk_to_waiting

from proctor.common.v1 import common_pb2
from proctor.events.v1 import incident_pb2, media_pb2, session_pb2
from proctor.exam.v1 import exam_session_pb2 as pb
from proctor_runtime.events import meta, ts
from proctor_runtime.kafka import EventProducer
from proctor_runtime.testing.helpers import kafka_events
from proctor_runtime.tokens import Role
from proctor_runtime.topics import INCIDENTS, MEDIA_STREAMS, SESSION_EVENTS

pytestmark = pytest.mark.infra
FP = grpc.StatusCode.FAILED_PRECONDITION


def answer(option: str) -> pb.AnswerPayload:
    return pb.AnswerPayload(single_choice=option)


async def one_candidate_in_exam(h) -> tuple[tuple[str, str], ...]:
    """A one-candidate sitting; c0 walked to the waiting room 20 min before and entered at the start."""
    await setup_sitting(h, candidates=1)
    h.clock.move_to(START - timedelta(minutes=20))
    md = await walk_to_waiting(h, "c0")
    h.clock.move_to(START)
    await h.stub.Enter(pb.EnterRequest(sitting_id=h.sitting_id, candidate_id="c0"), metadata=md)
    return md

async def test_a_candidate_walks_the_whole_sitting(harness, kafka_bootstrap):
    h = harness
    await setup_sitting(h, candidates=2)
    sid = h.sitting_id
    # face login is refused before it opens, with the opening time
    h.clock.move_to(START - timedelta(minutes=31))
    token = h.face_token("c0")
    login = pb.LoginRequest(sitting_id=sid, candidate_id="c0", face_login_token=token,
                            device=common_pb2.DeviceInfo(kind=1, device_id="desk-1"))
    got = await refused(h.stub.Login(login), FP, "LOGIN_NOT_OPEN")
    assert got.metadata["opens_at"] == "2026-12-01T01:30:00Z"
    h.clock.move_to(START - timedelta(minutes=25))
    md = await walk_to_waiting(h, "c0")
    status = await h.stub.GetCandidateState(pb.GetCandidateStateRequest(sitting_id=sid, candidate_id="c0"),
                                            metadata=md)
    assert status.candidate.state == common_pb2.CANDIDATE_STATE_WAITING
    assert not status.entry_gate.allowed and status.entry_gate.blocked_reason == "ENTRY_NOT_OPEN"
    await refused(h.stub.Enter(pb.EnterRequest(sitting_id=sid, candidate_id="c0"), metadata=md), FP,
                  "ENTRY_NOT_OPEN")

    h.clock.move_to(START + timedelta(minutes=1))
    entered = await h.stub.Enter(pb.EnterRequest(sitting_id=sid, candidate_id="c0"), metadata=md)
    assert entered.status.candidate.state == common_pb2.CANDIDATE_STATE_IN_EXAM
    assert entered.current.question.question_id == "q0" and entered.current.total == 5
    for i in range(5):
        qid = f"q{i}"
        for option in ("A", "B"):  # change the answer before moving on
            saved = await h.stub.SaveAnswer(pb.SaveAnswerRequest(
                sitting_id=sid, candidate_id="c0", question_id=qid, answer=answer(option),
                client_request_id=f"save-{i}-{option}"), metadata=md)
        assert saved.revision == 2
        if i < 4:
            moved = await h.stub.Advance(pb.AdvanceRequest(sitting_id=sid, candidate_id="c0",
                                                           from_question_id=qid, client_request_id=f"adv-{i}"),
                                         metadata=md)
            assert moved.locked_question_id == qid and moved.current.index == i + 1
    # a locked question can be neither read nor written
    await refused(h.stub.SaveAnswer(pb.SaveAnswerRequest(sitting_id=sid, candidate_id="c0", question_id="q1",
                                                         answer=answer("C"), client_request_id="late"),
                                    metadata=md), FP, "QUESTION_LOCKED")
    await refused(h.stub.Advance(pb.AdvanceRequest(sitting_id=sid, candidate_id="c0", from_question_id="q4"),
                                 metadata=md), grpc.StatusCode.OUT_OF_RANGE, "NO_NEXT_QUESTION")
    # no early submission
    got = await refused(h.stub.Finish(pb.FinishRequest(sitting_id=sid, candidate_id="c0"), metadata=md), FP,
                        "EARLY_SUBMISSION_NOT_ALLOWED")
    assert got.message_zh.startswith("不允许提前交卷")
    # the second candidate never enters: ABSENT after last entry; c0 FINISHED at the end
    h.clock.move_to(START + timedelta(minutes=31))
    await h.host.sweeper.sweep_once()
    h.clock.move_to(START + timedelta(minutes=90))
    await h.stub.Heartbeat(pb.HeartbeatRequest(sitting_id=sid, candidate_id="c0", device_kind=1,
                                               client_time=ts(h.clock.now)), metadata=md)
    await h.host.sweeper.sweep_once()
    status = await h.stub.GetCandidateState(pb.GetCandidateStateRequest(
        sitting_id=sid, candidate_id="c0", include_history=True), metadata=md)
    assert status.candidate.state == common_pb2.CANDIDATE_STATE_FINISHED
    assert [t.to_state for t in status.history] == [2, 3, 4, 5, 6, 7]
    other = await h.stub.GetCandidateState(pb.GetCandidateStateRequest(sitting_id=sid, candidate_id="c1"),
                                           metadata=h.staff())
    assert other.candidate.state == common_pb2.CANDIDATE_STATE_ABSENT
    # the media pipeline says everything is uploaded
    producer = EventProducer(kafka_bootstrap, "test")
    await producer.send(MEDIA_STREAMS.name, "c0", media_pb2.MediaStreamEvent(
        meta=meta(sitting_id=sid, candidate_id="c0", producer="media-ingest", event_time=h.clock.now),
        kind=media_pb2.MEDIA_STREAM_EVENT_KIND_CANDIDATE_UPLOAD_COMPLETE, attempt_number=1))
    await producer.close()
    async with asyncio.timeout(20):
        while True:
            status = await h.stub.GetCandidateState(pb.GetCandidateStateRequest(sitting_id=sid, candidate_id="c0"),
                                                    metadata=md)
            if status.candidate.state == common_pb2.CANDIDATE_STATE_UPLOADED:
                break
            await asyncio.sleep(0.1)
    sheet = await h.stub.ExportAnswerSheet(pb.ExportAnswerSheetRequest(sitting_id=sid, candidate_id="c0"),
                                           metadata=h.staff())
    assert sheet.final and [a.answer.single_choice for a in sheet.answers] == ["B"] * 5
    assert all(a.HasField("locked_at") for a in sheet.answers[:4]) and len(sheet.sha256) == 32
    # every transition reached Kafka, in order, through the outbox
    def c0_transitions(events):
        return [e.to_state for e in events if e.meta.candidate_id == "c0"
                and e.kind == session_pb2.SESSION_EVENT_KIND_TRANSITION]

    events = await kafka_events(kafka_bootstrap, SESSION_EVENTS.name,
                                     session_pb2.SessionEvent, sid, lambda got: len(c0_transitions(got)) >= 8)
    c0 = c0_transitions(events)
    assert c0 == [1, 2, 3, 4, 5, 6, 7, 8]
    assert len({e.meta.event_id for e in events}) == len(events)


async def test_candidate_tokens_reach_only_their_own_session(harness):
    h = harness
    await setup_sitting(h, candidates=2, rooms=("r1", "r2"))
    h.clock.move_to(START - timedelta(minutes=20))
    md = await walk_to_waiting(h, "c0")
    request = pb.GetCandidateStateRequest(sitting_id=h.sitting_id, candidate_id="c1")
    await refused(h.stub.GetCandidateState(request, metadata=md), grpc.StatusCode.PERMISSION_DENIED,
                  "NOT_YOUR_CANDIDATE")
    await refused(h.stub.EnterWaitingRoom(pb.EnterWaitingRoomRequest(sitting_id=h.sitting_id, candidate_id="c1"),
                                          metadata=md), grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_CANDIDATE")
    # a candidate token cannot act as staff
    await refused(h.stub.ImportCandidates(pb.ImportCandidatesRequest(), metadata=md),
                  grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")
    # a proctor of room r2 sees c1 (r2), not c0 (r1)
    proctor = h.proctor(("r2",))
    await h.stub.GetCandidateState(request, metadata=proctor)
    await refused(h.stub.GetCandidateState(pb.GetCandidateStateRequest(sitting_id=h.sitting_id, candidate_id="c0"),
                                           metadata=proctor), grpc.StatusCode.PERMISSION_DENIED, "OUT_OF_SCOPE")
    listed = await h.stub.ListCandidates(pb.ListCandidatesRequest(sitting_id=h.sitting_id), metadata=proctor)
    assert [c.candidate_id for c in listed.candidates] == ["c1"]
    await refused(h.stub.ListCandidates(pb.ListCandidatesRequest(sitting_id=h.sitting_id, room_ids=["r1"]),
                                        metadata=proctor), grpc.StatusCode.PERMISSION_DENIED, "OUT_OF_SCOPE")
    chief = h.proctor((), Role.CHIEF_PROCTOR)
    listed = await h.stub.ListCandidates(pb.ListCandidatesRequest(sitting_id=h.sitting_id), metadata=chief)
    assert len(listed.candidates) == 2
    # no token at all
    await refused(h.stub.GetCandidateState(request), grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")


async def test_a_face_token_for_another_candidate_cannot_log_in(harness):
    h = harness
    await setup_sitting(h, candidates=2)
    h.clock.move_to(START - timedelta(minutes=20))
    await refused(h.stub.Login(pb.LoginRequest(sitting_id=h.sitting_id, candidate_id="c1",
                                               face_login_token=h.face_token("c0"))),
                  grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_CANDIDATE")
    await refused(h.stub.Login(pb.LoginRequest(sitting_id=h.sitting_id, candidate_id="c0",
                                               face_login_token="pt1.forged.token")),
                  grpc.StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")
    await refused(h.stub.Login(pb.LoginRequest(sitting_id="nope", candidate_id="c0",
                                               face_login_token=h.face_token("c0"))),
                  grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_CANDIDATE")


async def test_after_last_entry_nobody_enters(harness):
    h = harness
    await setup_sitting(h, candidates=1)
    h.clock.move_to(START - timedelta(minutes=20))
    md = await walk_to_waiting(h, "c0")
    h.clock.move_to(START + timedelta(minutes=30, seconds=1))
    got = await refused(h.stub.Enter(pb.EnterRequest(sitting_id=h.sitting_id, candidate_id="c0"), metadata=md),
                        FP, "ENTRY_CLOSED")
    assert "截止进入时间已过" in got.message_zh and got.metadata["closes_at"] == "2026-12-01T02:30:00Z"


async def test_saves_are_idempotent_durable_and_size_limited(harness):
    h = harness
    await setup_sitting(h, candidates=1, max_answer_bytes=64)
    h.clock.move_to(START - timedelta(minutes=20))
    md = await walk_to_waiting(h, "c0")
    h.clock.move_to(START)
    await h.stub.Enter(pb.EnterRequest(sitting_id=h.sitting_id, candidate_id="c0"), metadata=md)
    req = pb.SaveAnswerRequest(sitting_id=h.sitting_id, candidate_id="c0", question_id="q0",
                               answer=answer("A"), client_request_id="r-1")
    first = await h.stub.SaveAnswer(req, metadata=md)
    again = await h.stub.SaveAnswer(req, metadata=md)
    assert (first.revision, first.duplicate) == (1, False) and (again.revision, again.duplicate) == (1, True)
    giant = pb.SaveAnswerRequest(sitting_id=h.sitting_id, candidate_id="c0", question_id="q0",
                                 answer=answer("A" * 100), client_request_id="r-2")
    got = await refused(h.stub.SaveAnswer(giant, metadata=md), grpc.StatusCode.INVALID_ARGUMENT, "ANSWER_TOO_LARGE")
    assert got.metadata["max_bytes"] == "64"
    await refused(h.stub.SaveAnswer(pb.SaveAnswerRequest(sitting_id=h.sitting_id, candidate_id="c0",
                                                         question_id="q0", answer=answer("Z"),
                                                         client_request_id="r-3"), metadata=md),
                  grpc.StatusCode.INVALID_ARGUMENT, "UNKNOWN_OPTION")
    await refused(h.stub.SaveAnswer(pb.SaveAnswerRequest(sitting_id=h.sitting_id, candidate_id="c0",
                                                         question_id="q2", answer=answer("A"),
                                                         client_request_id="r-4"), metadata=md),
                  FP, "QUESTION_NOT_CURRENT")
    current = await h.stub.GetCurrentQuestion(pb.GetCurrentQuestionRequest(sitting_id=h.sitting_id,
                                                                           candidate_id="c0"), metadata=md)
    assert current.saved_answer.single_choice == "A" and current.answer_revision == 1


async def test_bind_codes_are_single_use_and_expire_and_a_rebind_replaces_the_phone(harness):
    h = harness
    await setup_sitting(h, candidates=1)
    h.clock.move_to(START - timedelta(minutes=20))
    token = h.face_token("c0")
    await h.stub.Login(pb.LoginRequest(sitting_id=h.sitting_id, candidate_id="c0", face_login_token=token))
    md = bearer(token)
    issue = pb.IssueBindCodeRequest(sitting_id=h.sitting_id, candidate_id="c0")
    code = await h.stub.IssueBindCode(issue, metadata=md)
    assert len(code.bind_code) == 8 and code.qr_payload.startswith("proctor-bind:v1:")
    phone1 = common_pb2.DeviceInfo(kind=common_pb2.DEVICE_KIND_PHONE, device_id="phone-1")
    bound = await h.stub.BindPhone(pb.BindPhoneRequest(qr_payload=code.qr_payload, device=phone1))
    assert bound.status.candidate.state == common_pb2.CANDIDATE_STATE_PHONE_BOUND
    retry = await h.stub.BindPhone(pb.BindPhoneRequest(bind_code=code.bind_code, device=phone1))
    assert retry.candidate_id == "c0"  # the same phone retrying is fine
    phone2 = common_pb2.DeviceInfo(kind=common_pb2.DEVICE_KIND_PHONE, device_id="phone-2")
    await refused(h.stub.BindPhone(pb.BindPhoneRequest(bind_code=code.bind_code, device=phone2)),
                  FP, "BIND_CODE_USED")
    expired = await h.stub.IssueBindCode(issue, metadata=md)
    assert expired.rebind
    h.clock.advance(minutes=6)
    await refused(h.stub.BindPhone(pb.BindPhoneRequest(bind_code=expired.bind_code, device=phone2)),
                  FP, "BIND_CODE_EXPIRED")
    await refused(h.stub.BindPhone(pb.BindPhoneRequest(bind_code="ZZZZZZZZ", device=phone2)),
                  grpc.StatusCode.NOT_FOUND, "BIND_CODE_INVALID")
    fresh = await h.stub.IssueBindCode(issue, metadata=md)
    rebound = await h.stub.BindPhone(pb.BindPhoneRequest(bind_code=fresh.bind_code, device=phone2))
    assert rebound.replaced_device_id == "phone-1"
    heartbeat = pb.HeartbeatRequest(sitting_id=h.sitting_id, candidate_id="c0",
                                    device_kind=common_pb2.DEVICE_KIND_PHONE, device_id="phone-1")
    await refused(h.stub.Heartbeat(heartbeat, metadata=bearer(bound.device_token)),
                  grpc.StatusCode.UNAUTHENTICATED, "DEVICE_REPLACED")
    heartbeat.device_id = "phone-2"
    await h.stub.Heartbeat(heartbeat, metadata=bearer(rebound.device_token))


async def test_bind_phone_is_rate_limited(harness):
    h = harness
    await setup_sitting(h, candidates=1)
    phone = common_pb2.DeviceInfo(kind=common_pb2.DEVICE_KIND_PHONE, device_id="phone-x")
    for _ in range(h.logic.settings.bind_attempts_per_minute):
        await refused(h.stub.BindPhone(pb.BindPhoneRequest(bind_code="ABCDEFGH", device=phone)),
                      grpc.StatusCode.NOT_FOUND, "BIND_CODE_INVALID")
    got = await refused(h.stub.BindPhone(pb.BindPhoneRequest(bind_code="ABCDEFGH", device=phone)),
                        grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
    assert int(got.metadata["retry_after_ms"]) > 0


async def test_offline_answers_sync_with_skew_correction_and_flagging(harness):
    h = harness
    md = await one_candidate_in_exam(h)
    # the client clock runs 5 minutes slow; heartbeats measure it
    skew = timedelta(minutes=5)
    for _ in range(3):
        await h.stub.Heartbeat(pb.HeartbeatRequest(sitting_id=h.sitting_id, candidate_id="c0", device_kind=1,
                                                   client_time=ts(h.clock.now - skew)), metadata=md)
    end = START + timedelta(minutes=90)
    ops = [
        pb.OfflineOp(client_request_id="o1", client_sequence=1, client_time=ts(end - skew - timedelta(minutes=10)),
                     save=pb.OfflineSave(question_id="q0", answer=answer("C"))),
        pb.OfflineOp(client_request_id="o2", client_sequence=2, client_time=ts(end - skew - timedelta(minutes=9)),
                     advance=pb.OfflineAdvance(from_question_id="q0")),
        # 3 minutes before the end by its own (slow) clock, 2 minutes after it in server time
        pb.OfflineOp(client_request_id="o3", client_sequence=3, client_time=ts(end - timedelta(minutes=3)),
                     save=pb.OfflineSave(question_id="q1", answer=answer("D"))),
    ]
    h.clock.move_to(end + timedelta(minutes=20))  # reconnected after the end
    await h.host.sweeper.sweep_once()
    result = await h.stub.SyncOfflineAnswers(pb.SyncOfflineAnswersRequest(
        sitting_id=h.sitting_id, candidate_id="c0", ops=ops), metadata=md)
    assert [r.outcome for r in result.results] == [pb.OFFLINE_OP_OUTCOME_APPLIED, pb.OFFLINE_OP_OUTCOME_APPLIED,
                                                   pb.OFFLINE_OP_OUTCOME_FLAGGED]
    assert result.results[2].reason == "AFTER_END"
    assert abs(result.clock_offset.ToTimedelta() - skew) < timedelta(seconds=1)
    again = await h.stub.SyncOfflineAnswers(pb.SyncOfflineAnswersRequest(
        sitting_id=h.sitting_id, candidate_id="c0", ops=ops), metadata=md)
    assert {r.outcome for r in again.results} == {pb.OFFLINE_OP_OUTCOME_DUPLICATE}
    sheet = await h.stub.ExportAnswerSheet(pb.ExportAnswerSheetRequest(sitting_id=h.sitting_id,
                                                                       candidate_id="c0"), metadata=h.staff())
    assert sheet.answers[0].answer.single_choice == "C"
    assert sheet.answers[0].source == pb.ANSWER_SOURCE_OFFLINE_SYNC
    assert sheet.answers[1].answer.WhichOneof("value") is None
    assert [f.reason for f in sheet.answers[1].flagged] == ["AFTER_END"]


async def test_a_candidate_who_left_and_never_came_back_is_abandoned(harness, kafka_bootstrap):
    h = harness
    await one_candidate_in_exam(h)
    h.clock.advance(minutes=10)
    await h.host.sweeper.sweep_once()  # heartbeats stopped at the start: offline incident
    h.clock.move_to(START + timedelta(minutes=90))
    await h.host.sweeper.sweep_once()  # finished at the end, still offline
    h.clock.move_to(START + timedelta(minutes=151))
    await h.host.sweeper.sweep_once()  # upload deadline passed: never came back
    status = await h.stub.GetCandidateState(pb.GetCandidateStateRequest(sitting_id=h.sitting_id,
                                                                        candidate_id="c0"), metadata=h.staff())
    assert status.candidate.state == common_pb2.CANDIDATE_STATE_ABANDONED
    assert status.candidate.zero_score and status.zero_score_reason == "LEFT_EARLY_SCORES_ZERO"
    incidents = await kafka_events(kafka_bootstrap, INCIDENTS.name,
                                        incident_pb2.IncidentEvent, h.sitting_id, 3)
    kinds = sorted(e.incident.kind for e in incidents)
    # desktop and phone heartbeats both stopped; then the abandonment with the zero-score policy
    assert kinds == sorted([common_pb2.INCIDENT_KIND_NETWORK_OFFLINE, common_pb2.INCIDENT_KIND_PHONE_OFFLINE,
                            common_pb2.INCIDENT_KIND_ABANDONED])
    # staff can undo it, with a reason, audited
    await refused(h.stub.StaffTransition(pb.StaffTransitionRequest(
        sitting_id=h.sitting_id, candidate_id="c0", to_state=common_pb2.CANDIDATE_STATE_FINISHED),
        metadata=h.staff()), grpc.StatusCode.INVALID_ARGUMENT, "REASON_REQUIRED")
    undone = await h.stub.StaffTransition(pb.StaffTransitionRequest(
        sitting_id=h.sitting_id, candidate_id="c0", to_state=common_pb2.CANDIDATE_STATE_FINISHED,
        reason="power cut in the test centre, confirmed by the proctor", clear_zero_score=True),
        metadata=h.staff())
    assert undone.candidate.state == common_pb2.CANDIDATE_STATE_FINISHED and not undone.candidate.zero_score


async def test_offline_then_back_closes_the_incident(harness, kafka_bootstrap):
    h = harness
    md = await one_candidate_in_exam(h)
    h.clock.advance(minutes=5)
    await h.host.sweeper.sweep_once()
    await h.host.sweeper.sweep_once()  # idempotent: no second incident
    h.clock.advance(minutes=1)
    beat = await h.stub.Heartbeat(pb.HeartbeatRequest(sitting_id=h.sitting_id, candidate_id="c0", device_kind=1),
                                  metadata=md)
    assert beat.state == common_pb2.CANDIDATE_STATE_IN_EXAM
    incidents = await kafka_events(kafka_bootstrap, INCIDENTS.name,
                                        incident_pb2.IncidentEvent, h.sitting_id, 3)
    incidents = [e for e in incidents if e.incident.kind == common_pb2.INCIDENT_KIND_NETWORK_OFFLINE]
    assert [e.change for e in incidents] == [incident_pb2.INCIDENT_CHANGE_OPENED, incident_pb2.INCIDENT_CHANGE_CLOSED]
    assert incidents[0].incident.incident_id == incidents[1].incident.incident_id


async def test_mock_sitting_allows_three_attempts(harness):
    h = harness
    await setup_sitting(h, candidates=1, kind=common_pb2.SITTING_KIND_MOCK, require_phone=False,
                        require_room_scan=False)
    for attempt in (1, 2, 3):
        h.clock.move_to(START)
        token = h.face_token("c0", iat_shift=attempt)
        login = await h.stub.Login(pb.LoginRequest(sitting_id=h.sitting_id, candidate_id="c0",
                                                   face_login_token=token))
        assert login.new_attempt and login.status.attempts_used == attempt
        md = bearer(token)
        await h.stub.Enter(pb.EnterRequest(sitting_id=h.sitting_id, candidate_id="c0"), metadata=md)
        h.clock.move_to(START + timedelta(minutes=90))
        await h.host.sweeper.sweep_once()
        h.clock.move_to(START + timedelta(minutes=10))
    await refused(h.stub.Login(pb.LoginRequest(sitting_id=h.sitting_id, candidate_id="c0",
                                               face_login_token=h.face_token("c0", iat_shift=9))),
                  FP, "ATTEMPT_LIMIT_REACHED")


async def test_import_reports_every_rejected_row_and_is_idempotent(harness):
    h = harness
    await setup_sitting(h, candidates=1)
    rows = [pb.CandidateRow(line=2, candidate_id="c0", name="考生0", sitting_id=h.sitting_id, room_id="r1",
                            id_photo_ref="photos/c0.jpg"),
            pb.CandidateRow(line=3, candidate_id="c9", name="", sitting_id=h.sitting_id, room_id="r1"),
            pb.CandidateRow(line=4, candidate_id="c8", name="x", sitting_id="no-such", room_id="r1"),
            pb.CandidateRow(line=5, candidate_id="c7", name="y", sitting_id=h.sitting_id, room_id="r2"),
            pb.CandidateRow(line=6, candidate_id="c7", name="y", sitting_id=h.sitting_id, room_id="r2")]
    result = await h.stub.ImportCandidates(pb.ImportCandidatesRequest(rows=rows), metadata=h.staff())
    assert (result.created, result.unchanged, result.rejected) == (1, 1, 3)
    assert [(r.line, r.reason) for r in result.rejections] == [
        (3, "MISSING_FIELD"), (4, "SITTING_NOT_FOUND"), (6, "DUPLICATE_IN_BATCH")]
    again = await h.stub.ImportCandidates(pb.ImportCandidatesRequest(rows=rows[:1] + rows[3:4]),
                                          metadata=h.staff())
    assert (again.created, again.unchanged) == (0, 2)


async def test_create_sitting_validates_and_is_idempotent(harness):
    h = harness
    spec = make_sitting(h.sitting_id, START)
    first = await h.stub.CreateSitting(pb.CreateSittingRequest(sitting=spec), metadata=h.staff())
    again = await h.stub.CreateSitting(pb.CreateSittingRequest(sitting=spec), metadata=h.staff())
    assert first.created_at == again.created_at and first.policy.attempt_limit == 1
    changed = make_sitting(h.sitting_id, START, n=3)
    await refused(h.stub.CreateSitting(pb.CreateSittingRequest(sitting=changed), metadata=h.staff()),
                  grpc.StatusCode.ALREADY_EXISTS, "SITTING_EXISTS")
    bad = make_sitting("other", START)
    bad.timeline.last_entry.CopyFrom(bad.timeline.end)
    await refused(h.stub.CreateSitting(pb.CreateSittingRequest(sitting=bad), metadata=h.staff()),
                  grpc.StatusCode.INVALID_ARGUMENT, "TIMELINE_ORDER")


async def test_unknown_sitting_and_candidate_are_not_found(harness):
    h = harness
    await setup_sitting(h, candidates=1)
    await refused(h.stub.GetSitting(pb.GetSittingRequest(sitting_id="nope"), metadata=h.staff()),
                  grpc.StatusCode.NOT_FOUND, "SITTING_NOT_FOUND")
    await refused(h.stub.GetCandidateState(pb.GetCandidateStateRequest(sitting_id=h.sitting_id, candidate_id="zz"),
                                           metadata=h.staff()), grpc.StatusCode.NOT_FOUND, "CANDIDATE_NOT_FOUND")


async def test_telemetry_is_deduplicated_and_help_messages_reach_kafka(harness, kafka_bootstrap):
    from proctor.events.v1 import messaging_pb2, telemetry_pb2
    from proctor_runtime.topics import CLIENT_TELEMETRY, HELP_MESSAGES

    h = harness
    await setup_sitting(h, candidates=1)
    h.clock.move_to(START - timedelta(minutes=20))
    md = await walk_to_waiting(h, "c0")
    samples = [common_pb2.TelemetrySample(kind=common_pb2.TELEMETRY_KIND_DISPLAY_COUNT, sequence=i, value=2)
               for i in (1, 2, 3)]
    req = pb.ReportTelemetryRequest(sitting_id=h.sitting_id, candidate_id="c0", device_kind=1, samples=samples)
    first = await h.stub.ReportTelemetry(req, metadata=md)
    again = await h.stub.ReportTelemetry(req, metadata=md)
    assert (first.accepted, first.duplicates, again.accepted, again.duplicates) == (3, 0, 0, 3)
    too_many = pb.ReportTelemetryRequest(sitting_id=h.sitting_id, candidate_id="c0", device_kind=1,
                                         samples=[common_pb2.TelemetrySample(sequence=i) for i in range(501)])
    await refused(h.stub.ReportTelemetry(too_many, metadata=md), grpc.StatusCode.INVALID_ARGUMENT, "BATCH_TOO_LARGE")
    help_req = pb.SendHelpMessageRequest(sitting_id=h.sitting_id, candidate_id="c0",
                                         text="摄像头无法打开 <script>alert(1)</script>", client_message_id="m1")
    sent = await h.stub.SendHelpMessage(help_req, metadata=md)
    replay = await h.stub.SendHelpMessage(help_req, metadata=md)
    assert replay.duplicate and replay.message.message_id == sent.message.message_id
    await refused(h.stub.SendHelpMessage(pb.SendHelpMessageRequest(sitting_id=h.sitting_id, candidate_id="c0",
                                                                   text="x" * 2001, client_message_id="m2"),
                                         metadata=md), grpc.StatusCode.INVALID_ARGUMENT, "MESSAGE_TOO_LONG")
    telemetry = await kafka_events(kafka_bootstrap, CLIENT_TELEMETRY.name,
                                        telemetry_pb2.ClientTelemetry, h.sitting_id, 1)
    assert [s.sequence for s in telemetry[0].samples] == [1, 2, 3] and telemetry[0].room_id == "r1"
    helps = await kafka_events(kafka_bootstrap, HELP_MESSAGES.name,
                                    messaging_pb2.HelpMessage, h.sitting_id, 1)
    assert len(helps) == 1 and helps[0].message.text.startswith("摄像头无法打开")


async def test_a_restarted_replica_does_not_blame_candidates_for_its_own_silence(harness):
    """After a restart (or a database outage) the sweeper has not been able to hear heartbeats: it judges
    nobody offline until it has listened for a whole abandon grace; then a silent device is flagged."""
    from exam_session.metrics import SWEEP_ACTIONS

    h = harness
    await one_candidate_in_exam(h)
    offline = SWEEP_ACTIONS.labels("desktop_offline")
    before = offline._value.get()
    h.clock.advance(minutes=10)  # silence while "the service was down": it starts listening now
    h.host.sweeper.listening_since = h.clock()
    await h.host.sweeper.sweep_once()
    assert offline._value.get() == before
    h.clock.advance(seconds=30)
    h.host.sweeper.listening_since = None  # a failed sweep (database unreachable): listening again from now
    await h.host.sweeper.sweep_once()
    h.clock.advance(seconds=80)
    await h.host.sweeper.sweep_once()
    assert offline._value.get() == before  # 80 s of listening < the 90-s grace
    h.clock.advance(seconds=11)
    await h.host.sweeper.sweep_once()  # heard nothing for a whole grace: the desktop is offline
    assert offline._value.get() == before + 1

"""Bad input against every ExamSession RPC (see fuzz_campaign for the phases and the property)."""

import pytest
from exam_world import (
    exam_seeds,
    sitting_in_exam,
    staff,
    start_exam,
    stop_exam,
    token,
    walk,
)
from fuzz_campaign import Target, campaign_tests
from fuzz_check import close_fuzz_channel, fuzz_channel
from fuzz_protos import Pool
from fuzz_tokens import bad_tokens

from exam_session.grpc_api import PUBLIC_METHODS, SERVICE
from proctor.common.v1 import common_pb2
from proctor.exam.v1 import exam_session_pb2 as pb
from proctor_runtime.tokens import Claims, Role

pytestmark = pytest.mark.infra


async def _snapshot(world, cid):
    h = world.h
    status = await h.stub.GetCandidateState(pb.GetCandidateStateRequest(
        sitting_id=h.sitting_id, candidate_id=cid, include_history=True), metadata=staff(world))
    sheet = await h.stub.ExportAnswerSheet(pb.ExportAnswerSheetRequest(
        sitting_id=h.sitting_id, candidate_id=cid, allow_partial=True), metadata=staff(world))
    sheet.ClearField("exported_at")
    status.ClearField("server_time")
    current = await h.stub.GetCurrentQuestion(pb.GetCurrentQuestionRequest(sitting_id=h.sitting_id, candidate_id=cid),
                                              metadata=world.walked[cid].desktop)
    current.ClearField("server_time")
    return status.SerializeToString(deterministic=True), sheet.SerializeToString(deterministic=True), \
        current.SerializeToString(deterministic=True)


@pytest.fixture(scope="module")
async def target(postgres, kafka_bootstrap):
    world = await start_exam(postgres, kafka_bootstrap)
    await sitting_in_exam(world)
    h, sid = world.h, world.sitting_id
    c0, c1 = world.walked["c0"], world.walked["c1"]
    now = h.clock.now.timestamp()
    victim_claims = Claims(sub="c0", role=Role.CANDIDATE, iat=int(now), exp=int(now) + 3600, jti="v",
                           kid=h.auth_face.kid, sitting_id=sid, candidate_id="c0", device_id="desk-c0")
    other_sitting = token(world, "auth-face", sub="c0", role=Role.CANDIDATE, sitting_id="s-other",
                          candidate_id="c0", device_id="desk-c0")
    wrong = {"other_candidate": c1.desktop, "other_phone": c1.phone, "own_phone_on_desktop_rpc": c0.phone,
             "proctor_other_room": h.proctor(("r2",)), "same_candidate_other_sitting": other_sitting,
             "service_token_of_unknown_service": token(world, "media-ingest", sub="media-ingest",
                                                       role=Role.SERVICE)}
    anyone = {"none": (), "victim": c0.desktop, "victim_phone": c0.phone, "fuzzee": c1.desktop,
              "fuzzee_phone": c1.phone, "staff": staff(world), "proctor_r1": h.proctor(("r1",)),
              "chief": h.proctor((), Role.CHIEF_PROCTOR), "service": token(world, "media-ingest",
                                                                          sub="media-ingest", role=Role.SERVICE)}
    victim = {"sitting_id": sid, "candidate_id": "c0", "device_id": "desk-c0", "face_login_token": c1.face_token}
    fuzzee = {"sitting_id": sid, "candidate_id": "c1", "device_id": "desk-c1", "face_login_token": c1.face_token}
    pool = Pool({"sitting_id": [sid, "s-other"], "candidate_id": ["c0", "c1", "c2", "nobody"],
                 "question_id": ["q0", "q1", "q2", "q4", "q9"], "from_question_id": ["q0", "q1", "q4"],
                 "room_id": ["r1", "r2"], "room_ids": ["r1", "r2", "r9"], "device_id": ["desk-c0", "phone-c0", "desk-c1"],
                 "face_login_token": [c0.face_token, c1.face_token], "client_request_id": ["fuzz-save", "save-c0-q1-C"],
                 "single_choice": ["A", "B", "Z"], "option_ids": ["A", "B"], "essay": ["答案"]})

    async def known_good():
        # the witness c3 was never named by the fuzzer: it still logs in, binds and answers normally
        w = await walk(h, "c3", room_scan=False)
        status = await h.stub.GetCandidateState(pb.GetCandidateStateRequest(sitting_id=sid, candidate_id="c3"),
                                                metadata=w.desktop)
        assert status.candidate.state == common_pb2.CANDIDATE_STATE_PHONE_BOUND, status
        sitting = await h.stub.GetSitting(pb.GetSittingRequest(sitting_id=sid), metadata=staff(world))
        assert [q.question_id for q in sitting.questions] == [f"q{i}" for i in range(5)]

    channel = fuzz_channel(f"127.0.0.1:{h.host.port}")
    t = Target(SERVICE, channel, frozenset(m.rsplit("/", 1)[1] for m in PUBLIC_METHODS), victim, fuzzee, pool,
               bad_tokens(h.auth_face, victim_claims, now), wrong, anyone,
               snapshot=lambda: _snapshot(world, "c0"), known_good=known_good, seeds=exam_seeds(world))
    t.baseline = await t.snapshot()
    yield t
    await close_fuzz_channel(channel)
    await stop_exam(world, postgres)


# --- regressions: inputs this campaign found answered INTERNAL/UNKNOWN, fixed in proctor_runtime ----------------

REGRESSIONS = [
    # bytes that are no protobuf: gRPC answered UNKNOWN without a detail (interceptor: REQUEST_MALFORMED)
    ("GetSitting", b"\x0a\xff\xff\x03junk", "INVALID_ARGUMENT", "REQUEST_MALFORMED"),
    ("GetSitting", b"\x0a\x02\xc3\x28", "INVALID_ARGUMENT", "REQUEST_MALFORMED"),  # invalid UTF-8 in a string
    # a timestamp outside 0001-9999: ValueError in ToDatetime -> INTERNAL (validation: FIELD_INVALID)
    ("ListSittings", pb.ListSittingsRequest(active_between=common_pb2.TimeRange(
        start_time={"seconds": -(2**63)})).SerializeToString(), "INVALID_ARGUMENT", "FIELD_INVALID"),
    ("SaveAnswer", pb.SaveAnswerRequest(sitting_id="s", candidate_id="c0", client_time={
        "seconds": 0, "nanos": -1}).SerializeToString(), "INVALID_ARGUMENT", "FIELD_INVALID"),
    # a CandidateState filter beyond smallint (PROCTOR_FUZZ_EXAMPLES=400): NumericValueOutOfRange -> INTERNAL
    ("ListCandidates", lambda t: pb.ListCandidatesRequest(sitting_id=t.victim["sitting_id"],
                                                          states=[-(2**31)]).SerializeToString(),
     "INVALID_ARGUMENT", "FIELD_INVALID"),
    # NUL in a string: psycopg DataError -> INTERNAL (validation: FIELD_INVALID)
    ("ExportAnswerSheet", pb.ExportAnswerSheetRequest(sitting_id="a\x00b", candidate_id="c0").SerializeToString(),
     "INVALID_ARGUMENT", "FIELD_INVALID"),
]


@pytest.mark.parametrize(("method", "raw", "code", "reason"), REGRESSIONS,
                         ids=[f"{m}-{r}-{i}" for i, (m, _, _, r) in enumerate(REGRESSIONS)])
async def test_regression(target, method, raw, code, reason):
    outcome = await target.send(method, "regression", [raw(target) if callable(raw) else raw], target.anyone["staff"])
    assert (outcome.code.name, outcome.detail.reason) == (code, reason), outcome


globals().update(campaign_tests(SERVICE))

"""Face login with a real head-turn clip: success and the session token, still images, another
person, wrong order, a replayed clip, single active login (incident on Kafka), sessions."""

from datetime import timedelta

import grpc
import pytest
from auth_harness import bearer, failure_names, kafka_events, refused, still_frames

from auth_face.domain import Step
from proctor.auth.v1 import auth_face_pb2 as pb
from proctor.common.v1 import common_pb2
from proctor.events.v1 import audit_pb2, incident_pb2
from proctor_runtime.tokens import Role
from proctor_runtime.topics import AUDIT, INCIDENTS

pytestmark = [pytest.mark.infra, pytest.mark.shared_data]
FP = grpc.StatusCode.FAILED_PRECONDITION


async def test_login_with_a_real_clip_then_single_active_login(auth, lamia):
    h = auth
    assert (await h.enrol("c1", lamia["id_photo"])).enrolled
    ch = await h.challenge("c1")
    assert [pb.LivenessAction.Name(s.action) for s in ch.steps] == [
        "LIVENESS_ACTION_TURN_LEFT", "LIVENESS_ACTION_LOOK_UP", "LIVENESS_ACTION_TURN_RIGHT"]
    assert ch.steps[0].instruction.zh == "请向左转头" and ch.max_frames >= len(lamia["frames"])
    start = h.clock.now + timedelta(seconds=0.5)
    h.clock.advance(seconds=11)
    resp = await h.stub.VerifyLogin(h.login_request(ch.challenge_id, "c1", lamia["frames"], start=start))
    assert resp.verified, resp.failures
    assert resp.liveness.passed and all(s.passed for s in resp.liveness.steps)
    assert resp.match.decision == pb.MATCH_DECISION_MATCH and resp.match.distance < resp.match.threshold
    claims = h.verifier.verify(resp.session_token)
    assert (claims.role, claims.sitting_id, claims.candidate_id, claims.device_id, claims.jti) == (
        Role.CANDIDATE, h.sitting_id, "c1", "desk-1", resp.session_id)
    assert claims.exp - claims.iat <= 3600 and resp.attempts_remaining == 5
    md = bearer(resp.session_token)
    info = await h.stub.GetSession(pb.GetSessionRequest(session_id=resp.session_id), metadata=md)
    assert info.status == pb.SESSION_STATUS_ACTIVE and info.origin == pb.SESSION_ORIGIN_FACE_LOGIN
    # the challenge is single-use
    await refused(h.stub.VerifyLogin(h.login_request(ch.challenge_id, "c1", lamia["frames"], start=start)), FP,
                  "CHALLENGE_USED")

    # a second device while the session is active: refused, reported as an incident
    ch2 = await h.challenge("c1", device="laptop-2")
    got = await refused(h.stub.VerifyLogin(h.login_request(ch2.challenge_id, "c1", lamia["frames"], "laptop-2")),
                        FP, "ACTIVE_ON_OTHER_DEVICE")
    assert got.metadata["active_device_id"] == "desk-1" and "其他设备" in got.message_zh
    incidents = await kafka_events(h.bootstrap, INCIDENTS.name, incident_pb2.IncidentEvent, h.sitting_id,
                                   lambda got: len(got) >= 1)
    inc = incidents[0].incident
    assert inc.kind == common_pb2.INCIDENT_KIND_SECOND_DEVICE_LOGIN and inc.candidate_id == "c1"
    assert inc.source == common_pb2.INCIDENT_SOURCE_AUTH and inc.attributes["attempted_device_id"] == "laptop-2"
    audit = await kafka_events(h.bootstrap, AUDIT.name, audit_pb2.AuditEvent, h.sitting_id,
                               lambda got: len([a for a in got if a.action == "auth.login"]) >= 2)
    logins = [(a.outcome, a.outcome_reason, a.device_id) for a in audit if a.action == "auth.login"]
    assert (audit_pb2.AUDIT_OUTCOME_SUCCESS, "", "desk-1") in logins
    assert (audit_pb2.AUDIT_OUTCOME_DENIED, "ACTIVE_ON_OTHER_DEVICE", "laptop-2") in logins

    # refresh: a new token for the same session; a retry within seconds gets the same one
    h.clock.advance(seconds=60)
    fresh = await h.stub.RefreshSession(pb.RefreshSessionRequest(session_id=resp.session_id), metadata=md)
    retry = await h.stub.RefreshSession(pb.RefreshSessionRequest(session_id=resp.session_id), metadata=md)
    assert fresh.session_token == retry.session_token != resp.session_token
    assert h.verifier.verify(fresh.session_token).jti == resp.session_id
    # logout: the session is revoked; the token cannot be refreshed; now the other device may log in
    revoked = await h.stub.RevokeSession(pb.RevokeSessionRequest(session_id=resp.session_id), metadata=md)
    assert revoked.status == pb.SESSION_STATUS_REVOKED and revoked.revoke_reason == "LOGOUT"
    again = await h.stub.RevokeSession(pb.RevokeSessionRequest(session_id=resp.session_id), metadata=md)
    assert again.revoked_at == revoked.revoked_at
    await refused(h.stub.RefreshSession(pb.RefreshSessionRequest(session_id=resp.session_id),
                                        metadata=bearer(fresh.session_token)), grpc.StatusCode.UNAUTHENTICATED,
                  "SESSION_REVOKED")
    # a service honouring revocation
    status = await h.stub.GetSession(pb.GetSessionRequest(session_id=resp.session_id), metadata=h.service())
    assert status.status == pb.SESSION_STATUS_REVOKED


async def test_another_person_is_a_mismatch(auth, lamia, photos):
    h = auth
    assert (await h.enrol("c1", photos["astronaut"])).enrolled
    resp = await h.login("c1", lamia["frames"])
    assert not resp.verified and failure_names(resp) == ["FACE_MISMATCH"]
    assert resp.liveness.passed  # she really moved: only the identity fails
    assert resp.match.decision == pb.MATCH_DECISION_MISMATCH and resp.match.distance > resp.match.threshold
    assert resp.failures[0].message.zh == "人脸与报名照片不一致" and resp.attempts_remaining == 4


async def test_still_images_and_wrong_order_fail(auth, lamia):
    h = auth
    assert (await h.enrol("c1", lamia["id_photo"])).enrolled
    still = await h.login("c1", still_frames(lamia["id_photo"]))
    assert not still.verified and failure_names(still)[0] == "STILL_IMAGE"
    assert not still.liveness.passed and still.match.decision == pb.MATCH_DECISION_MATCH
    masked = await h.login("c1", still_frames(lamia["masked"]))
    assert failure_names(masked)[:2] == ["FACE_QUALITY", "STILL_IMAGE"]
    assert masked.failures[0].quality_issue == pb.QUALITY_ISSUE_CODE_FACE_MASKED
    assert masked.failures[0].message.zh == "请摘下口罩"
    # the real clip, but the challenge asked for the moves in another order
    h.use_steps([Step.TURN_RIGHT, Step.LOOK_UP, Step.TURN_LEFT])
    wrong = await h.login("c1", lamia["frames"])
    assert failure_names(wrong) == ["LIVENESS_STEP_MISSED"] and wrong.failures[0].step_index == 2
    # a clip recorded for another challenge (it also looks up, which was not asked): replay
    h.use_steps([Step.TURN_LEFT, Step.TURN_RIGHT])
    replay = await h.login("c1", lamia["frames"])
    assert failure_names(replay) == ["REPLAY_SUSPECTED"]
    assert replay.attempts_remaining == 1
    # frames claiming to span more time than the challenge has existed
    h.use_steps([Step.TURN_LEFT, Step.LOOK_UP, Step.TURN_RIGHT])
    fast = await h.login("c1", lamia["frames"], capture_s=2)
    assert failure_names(fast) == ["REPLAY_SUSPECTED"] and fast.manual_review_id  # the 5th failure: queued
    await refused(h.challenge("c1"), FP, "MANUAL_REVIEW_PENDING")


async def test_login_protocol_errors(auth, lamia, photos):
    h = auth
    await refused(h.challenge("nobody"), grpc.StatusCode.NOT_FOUND, "CANDIDATE_NOT_ENROLLED")
    assert (await h.enrol("c1", lamia["id_photo"])).enrolled
    assert (await h.enrol("c2", photos["astronaut"])).enrolled
    ch = await h.challenge("c1")
    frames = lamia["frames"][:20]
    await refused(h.stub.VerifyLogin(h.login_request("chl-unknown", "c1", frames)), grpc.StatusCode.NOT_FOUND,
                  "CHALLENGE_NOT_FOUND")
    await refused(h.stub.VerifyLogin(h.login_request(ch.challenge_id, "c2", frames)),
                  grpc.StatusCode.INVALID_ARGUMENT, "CHALLENGE_MISMATCH")
    bad = h.login_request(ch.challenge_id, "c1", frames)
    bad.frames.frames[3].jpeg = b"not a jpeg"
    got = await refused(h.stub.VerifyLogin(bad), grpc.StatusCode.INVALID_ARGUMENT, "NOT_AN_IMAGE")
    assert got.metadata["field"] == "frames.frames[3].jpeg"
    cut = h.login_request(ch.challenge_id, "c1", frames)
    cut.frames.frames[0].jpeg = cut.frames.frames[0].jpeg[:3000]
    await refused(h.stub.VerifyLogin(cut), grpc.StatusCode.INVALID_ARGUMENT, "IMAGE_TRUNCATED")
    many = h.login_request(ch.challenge_id, "c1", lamia["frames"] * 2)
    await refused(h.stub.VerifyLogin(many), grpc.StatusCode.INVALID_ARGUMENT, "TOO_MANY_FRAMES")
    # malformed requests do not spend the challenge; too few frames is an answer (and a failure)
    few = await h.stub.VerifyLogin(h.login_request(ch.challenge_id, "c1", frames[:4]))
    assert failure_names(few) == ["INSUFFICIENT_FRAMES"]
    # a newer challenge replaces the open one
    old = await h.challenge("c1")
    await h.challenge("c1")
    got = await refused(h.stub.VerifyLogin(h.login_request(old.challenge_id, "c1", frames)), FP,
                        "CHALLENGE_EXPIRED")
    assert got.metadata["superseded"] == "true"
    late = await h.challenge("c1")
    h.clock.advance(seconds=600)
    await refused(h.stub.VerifyLogin(h.login_request(late.challenge_id, "c1", frames)), FP, "CHALLENGE_EXPIRED")


async def test_pre_login_calls_are_rate_limited(make_auth, photos):
    h = await make_auth(prelogin_per_candidate_per_minute=3)
    assert (await h.enrol("c1", photos["astronaut"])).enrolled
    for _ in range(3):
        await h.challenge("c1")
    got = await refused(h.challenge("c1"), grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
    assert int(got.metadata["retry_after_ms"]) > 0
    # another candidate is not affected by c1's limit
    await refused(h.challenge("c2"), grpc.StatusCode.NOT_FOUND, "CANDIDATE_NOT_ENROLLED")


async def test_login_with_an_uploaded_clip(auth, lamia, shared_faces):
    h = auth
    assert (await h.enrol("c1", lamia["id_photo"])).enrolled
    ch = await h.challenge("c1")
    h.clock.advance(seconds=12)
    clip = pb.VideoClip(data=(shared_faces / "video" / "lamia_head_turns.webm").read_bytes(),
                        format=common_pb2.MediaFormat(mime_type="video/webm;codecs=vp8"))
    resp = await h.stub.VerifyLogin(pb.VerifyLoginRequest(
        challenge_id=ch.challenge_id, sitting_id=h.sitting_id, candidate_id="c1",
        device=common_pb2.DeviceInfo(kind=common_pb2.DEVICE_KIND_DESKTOP, device_id="desk-1"), clip=clip))
    assert resp.verified, resp.failures
    assert h.verifier.verify(resp.session_token).device_id == "desk-1"

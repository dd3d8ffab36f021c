"""Staff overrides and their claim codes, device switches, tokens of another candidate, the
manual-review queue after N failures (room scopes from exam-session's roster on Kafka)."""

import asyncio

import grpc
import pytest
from auth_harness import bearer, desktop, failure_names, kafka_events, refused, still_frames

from proctor.auth.v1 import auth_face_pb2 as pb
from proctor.common.v1 import common_pb2
from proctor.events.v1 import audit_pb2, session_pb2
from proctor_runtime.events import meta
from proctor_runtime.kafka import EventProducer
from proctor_runtime.tokens import Role
from proctor_runtime.topics import AUDIT, SESSION_EVENTS

pytestmark = pytest.mark.infra
FP, NF = grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND


def override(h, cid: str, kind=pb.OVERRIDE_KIND_ADMIT, **kw) -> pb.StaffOverrideRequest:
    return pb.StaffOverrideRequest(sitting_id=h.sitting_id, candidate_id=cid, kind=kind, **kw)


def claim(h, cid: str, code: str, device: str = "desk-1") -> pb.ClaimOverrideRequest:
    return pb.ClaimOverrideRequest(sitting_id=h.sitting_id, candidate_id=cid, claim_code=code, device=desktop(device))


async def test_staff_override_claim_and_device_switch(auth, photos):
    h = auth
    for cid in ("c1", "c2"):
        assert (await h.enrol(cid, photos["astronaut"])).enrolled
    await refused(h.stub.StaffOverride(override(h, "c1"), metadata=h.staff()), grpc.StatusCode.INVALID_ARGUMENT,
                  "REASON_REQUIRED")
    await refused(h.stub.StaffOverride(override(h, "nobody", reason="x"), metadata=h.staff()), NF,
                  "CANDIDATE_NOT_FOUND")
    await refused(h.stub.StaffOverride(override(h, "c1", reason="x"), metadata=h.proctor(("r1",))),
                  grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")
    admit = override(h, "c1", reason="webcam broken, identity checked by video call", ticket_ref="T-17",
                     client_request_id="req-1")
    first = await h.stub.StaffOverride(admit, metadata=h.staff())
    again = await h.stub.StaffOverride(admit, metadata=h.staff())  # idempotent by client_request_id
    assert len(first.claim_code) == 8 and (again.override_id, again.claim_code) == (first.override_id,
                                                                                      first.claim_code)
    await refused(h.stub.ClaimOverride(claim(h, "c2", first.claim_code)), NF, "CLAIM_CODE_INVALID")
    await refused(h.stub.ClaimOverride(claim(h, "c1", "WRONGCDE")), NF, "CLAIM_CODE_INVALID")
    token = await h.stub.ClaimOverride(claim(h, "c1", first.claim_code.lower()))
    claims = h.verifier.verify(token.session_token)
    assert (claims.candidate_id, claims.device_id, claims.jti) == ("c1", "desk-1", token.session_id)
    retry = await h.stub.ClaimOverride(claim(h, "c1", first.claim_code))  # lost reply: same device, same token
    assert retry.session_token == token.session_token
    await refused(h.stub.ClaimOverride(claim(h, "c1", first.claim_code, "laptop-2")), FP, "CLAIM_CODE_USED")
    md = bearer(token.session_token)
    info = await h.stub.GetSession(pb.GetSessionRequest(session_id=token.session_id), metadata=md)
    assert info.origin == pb.SESSION_ORIGIN_STAFF_OVERRIDE and info.status == pb.SESSION_STATUS_ACTIVE

    # an admit claimed on a second device while the first is signed in: refused like a face login
    second = await h.stub.StaffOverride(override(h, "c1", reason="second code"), metadata=h.staff())
    await refused(h.stub.ClaimOverride(claim(h, "c1", second.claim_code, "laptop-2")), FP, "ACTIVE_ON_OTHER_DEVICE")
    # a device-bound code on the wrong device; an expired code
    bound = await h.stub.StaffOverride(override(h, "c2", reason="bound", device_id="desk-9"), metadata=h.staff())
    await refused(h.stub.ClaimOverride(claim(h, "c2", bound.claim_code, "desk-8")), FP, "WRONG_DEVICE")
    h.clock.advance(minutes=11)
    await refused(h.stub.ClaimOverride(claim(h, "c2", bound.claim_code, "desk-9")), FP, "CLAIM_CODE_EXPIRED")

    # the laptop died: staff allow a device switch; the active session is revoked; laptop-2 may claim
    switch = await h.stub.StaffOverride(override(h, "c1", pb.OVERRIDE_KIND_ALLOW_DEVICE_SWITCH,
                                                 reason="laptop died"), metadata=h.staff())
    assert switch.revoked_session_id == token.session_id and not switch.claim_code
    fresh = await h.stub.StaffOverride(override(h, "c1", reason="after the switch"), metadata=h.staff())
    moved = await h.stub.ClaimOverride(claim(h, "c1", fresh.claim_code, "laptop-2"))
    assert h.verifier.verify(moved.session_token).device_id == "laptop-2"
    old = await h.stub.GetSession(pb.GetSessionRequest(session_id=token.session_id), metadata=h.staff())
    assert old.status == pb.SESSION_STATUS_REVOKED and old.revoke_reason == "STAFF_DEVICE_SWITCH"
    # staff and services must give a reason to revoke
    await refused(h.stub.RevokeSession(pb.RevokeSessionRequest(session_id=moved.session_id), metadata=h.staff()),
                  grpc.StatusCode.INVALID_ARGUMENT, "REASON_REQUIRED")

    def complete(got) -> bool:
        actions = [a.action for a in got]
        return actions.count("auth.override.admit") >= 4 and actions.count("auth.override.claim") >= 2 \
            and "auth.override.device_switch" in actions

    audit = await kafka_events(h.bootstrap, AUDIT.name, audit_pb2.AuditEvent, h.sitting_id, complete)
    actions = [a.action for a in audit]
    assert actions.count("auth.override.admit") == 4 and "auth.override.device_switch" in actions
    staff_admit = next(a for a in audit if a.action == "auth.override.admit" and a.attributes["ticket_ref"] == "T-17")
    assert staff_admit.actor.kind == common_pb2.ACTOR_KIND_STAFF and staff_admit.reason.startswith("webcam")
    assert staff_admit.actor.id == "staff-1" and staff_admit.target.id == first.override_id


async def test_a_token_of_another_candidate_is_refused(auth, photos):
    h = auth
    tokens = {}
    for cid in ("c1", "c2"):
        assert (await h.enrol(cid, photos["astronaut"])).enrolled
        code = (await h.stub.StaffOverride(override(h, cid, reason="test"), metadata=h.staff())).claim_code
        tokens[cid] = await h.stub.ClaimOverride(claim(h, cid, code, f"desk-{cid}"))
    md1 = bearer(tokens["c1"].session_token)
    other = tokens["c2"].session_id
    denied = grpc.StatusCode.PERMISSION_DENIED
    await refused(h.stub.GetSession(pb.GetSessionRequest(session_id=other), metadata=md1), denied,
                  "NOT_YOUR_CANDIDATE")
    await refused(h.stub.RevokeSession(pb.RevokeSessionRequest(session_id=other), metadata=md1), denied,
                  "NOT_YOUR_CANDIDATE")
    await refused(h.stub.RefreshSession(pb.RefreshSessionRequest(session_id=other), metadata=md1), denied,
                  "NOT_YOUR_CANDIDATE")
    await refused(h.stub.GetEnrolment(pb.GetEnrolmentRequest(sitting_id=h.sitting_id, candidate_id="c2"),
                                      metadata=md1), denied, "NOT_YOUR_CANDIDATE")
    await refused(h.stub.ReVerify(pb.ReVerifyRequest(sitting_id=h.sitting_id, candidate_id="c1",
                                                     frame_jpeg=photos["astronaut"]), metadata=md1), denied,
                  "ROLE_NOT_ALLOWED")
    await refused(h.stub.EnrolCandidate(pb.EnrolCandidateRequest(sitting_id=h.sitting_id, candidate_id="c1",
                                                                 id_photo=photos["hanks"], replace_existing=True),
                                        metadata=md1), denied, "ROLE_NOT_ALLOWED")
    tampered = tokens["c1"].session_token[:-4] + ("AAAA" if not tokens["c1"].session_token.endswith("AAAA")
                                                  else "BBBB")
    await refused(h.stub.GetSession(pb.GetSessionRequest(session_id=other), metadata=bearer(tampered)),
                  grpc.StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")
    h.clock.advance(hours=2)  # the short-lived token expired
    await refused(h.stub.GetSession(pb.GetSessionRequest(session_id=tokens["c1"].session_id), metadata=md1),
                  grpc.StatusCode.UNAUTHENTICATED, "TOKEN_EXPIRED")


async def test_failures_queue_the_candidate_for_manual_review(make_auth, photos):
    h = await make_auth(wait_consumer=True, max_failed_attempts=3)
    # exam-session announces the candidate list; auth-face learns the rooms from it
    producer = EventProducer(h.bootstrap, "test")
    for cid, room in (("c1", "r1"), ("c2", "r2")):
        await producer.send(SESSION_EVENTS.name, cid, session_pb2.SessionEvent(
            meta=meta(sitting_id=h.sitting_id, candidate_id=cid, producer="exam-session", event_time=h.clock.now),
            kind=session_pb2.SESSION_EVENT_KIND_TRANSITION, to_state=common_pb2.CANDIDATE_STATE_REGISTERED,
            room_id=room, display_name=f"考生 {cid}", state_version=1))
    await producer.close()
    assert (await h.enrol("c1", photos["astronaut"])).enrolled
    for attempt in range(3):
        resp = await h.login("c1", still_frames(photos["astronaut"]), capture_s=4)
        assert failure_names(resp)[0] == "STILL_IMAGE" and resp.attempts_remaining == 2 - attempt
    review_id = resp.manual_review_id
    assert review_id
    got = await refused(h.challenge("c1"), FP, "MANUAL_REVIEW_PENDING")
    assert got.metadata["review_id"] == review_id and "人工审核" in got.message_zh

    # the queue: a proctor of another room does not see it, the proctor of r1 does
    req = pb.ListManualReviewRequest(sitting_id=h.sitting_id)
    assert not (await h.stub.ListManualReview(req, metadata=h.proctor(("r2",)))).items
    for _ in range(100):  # the roster arrives through Kafka
        items = (await h.stub.ListManualReview(req, metadata=h.proctor(("r1",)))).items
        if items:
            break
        await asyncio.sleep(0.2)
    (item,) = items
    assert (item.review_id, item.room_id, item.failed_attempts) == (review_id, "r1", 3)
    assert item.last_failures[0].reason == pb.LOGIN_FAILURE_REASON_STILL_IMAGE
    await refused(h.stub.ListManualReview(req, metadata=bearer("pt1.x.y")), grpc.StatusCode.UNAUTHENTICATED,
                  "TOKEN_INVALID")
    # resolve: the proctor of r2 may not; the proctor of r1 admits; a different resolution is refused
    resolve = pb.ResolveManualReviewRequest(review_id=review_id, resolution=pb.REVIEW_RESOLUTION_ADMIT,
                                            reason="compared with the ID card on camera")
    await refused(h.stub.ResolveManualReview(resolve, metadata=h.proctor(("r2",))),
                  grpc.StatusCode.PERMISSION_DENIED, "OUT_OF_SCOPE")
    done = await h.stub.ResolveManualReview(resolve, metadata=h.proctor(("r1",)))
    assert done.item.status == pb.REVIEW_STATUS_ADMITTED and len(done.claim_code) == 8
    assert done.item.resolved_by.id == "proctor-1"
    same = await h.stub.ResolveManualReview(resolve, metadata=h.proctor(("r1",)))
    assert same.claim_code == done.claim_code
    await refused(h.stub.ResolveManualReview(pb.ResolveManualReviewRequest(
        review_id=review_id, resolution=pb.REVIEW_RESOLUTION_REJECT, reason="changed my mind"),
        metadata=h.staff()), FP, "REVIEW_ALREADY_RESOLVED")
    token = await h.stub.ClaimOverride(claim(h, "c1", done.claim_code))
    assert h.verifier.verify(token.session_token).candidate_id == "c1"
    assert (await h.challenge("c1")).challenge_id  # face login is open again
    resolved = await h.stub.ListManualReview(pb.ListManualReviewRequest(
        sitting_id=h.sitting_id, statuses=[pb.REVIEW_STATUS_ADMITTED]), metadata=h.proctor((), Role.CHIEF_PROCTOR))
    assert [i.review_id for i in resolved.items] == [review_id]
    await refused(h.stub.ResolveManualReview(pb.ResolveManualReviewRequest(
        review_id="rev-nope", resolution=pb.REVIEW_RESOLUTION_REJECT, reason="x"), metadata=h.staff()), NF,
        "REVIEW_NOT_FOUND")


async def test_rejected_review_keeps_face_login_closed(make_auth, photos):
    h = await make_auth(max_failed_attempts=1)
    assert (await h.enrol("c1", photos["astronaut"])).enrolled
    resp = await h.login("c1", still_frames(photos["astronaut"]), capture_s=4)
    assert resp.manual_review_id and resp.attempts_remaining == 0
    items = (await h.stub.ListManualReview(pb.ListManualReviewRequest(sitting_id=h.sitting_id),
                                           metadata=h.staff())).items
    assert [i.room_id for i in items] == [""]  # not on the roster: staff and chief proctors see it
    await refused(h.stub.ResolveManualReview(pb.ResolveManualReviewRequest(
        review_id=resp.manual_review_id, resolution=pb.REVIEW_RESOLUTION_REJECT), metadata=h.staff()),
        grpc.StatusCode.INVALID_ARGUMENT, "REASON_REQUIRED")
    await h.stub.ResolveManualReview(pb.ResolveManualReviewRequest(
        review_id=resp.manual_review_id, resolution=pb.REVIEW_RESOLUTION_REJECT, reason="someone else"),
        metadata=h.staff())
    await refused(h.challenge("c1"), FP, "MANUAL_REVIEW_REJECTED")
    # staff may still let the candidate in explicitly
    code = (await h.stub.StaffOverride(override(h, "c1", reason="identity confirmed at the desk"),
                                       metadata=h.staff())).claim_code
    assert (await h.stub.ClaimOverride(claim(h, "c1", code))).session_token
    assert (await h.challenge("c1")).challenge_id
    # a second candidate fails, waits in the queue, and staff admit them directly: the review is settled
    assert (await h.enrol("c2", photos["astronaut"])).enrolled
    pending = await h.login("c2", still_frames(photos["astronaut"]), capture_s=4)
    code = (await h.stub.StaffOverride(override(h, "c2", reason="checked on the phone"),
                                       metadata=h.staff())).claim_code
    assert (await h.stub.ClaimOverride(claim(h, "c2", code, "desk-2"))).session_token
    (settled,) = (await h.stub.ListManualReview(pb.ListManualReviewRequest(
        sitting_id=h.sitting_id, statuses=[pb.REVIEW_STATUS_ADMITTED]), metadata=h.staff())).items
    assert settled.review_id == pending.manual_review_id and settled.resolved_by.id == "staff-1"

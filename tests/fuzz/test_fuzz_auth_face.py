"""Bad input against every AuthFace RPC (see fuzz_campaign for the phases and the property), with the
real default model pack: photos and frames that are random bytes, truncated images, NaN embeddings.
The victim c0 is enrolled and holds an active session; afterwards both must be exactly as before."""

import asyncio
import uuid

import cv2
import numpy as np
import pytest
from auth_harness import CLIP_STEPS, START, Clock, desktop, jpeg
from fuzz_campaign import Target, campaign_tests
from fuzz_check import close_fuzz_channel, fuzz_channel
from fuzz_protos import Pool
from fuzz_tokens import bad_tokens
from pydantic import SecretStr

from auth_face.app import build
from auth_face.config import Settings
from auth_face.crypto import generate_key as template_key
from auth_face.grpc_api import PUBLIC_METHODS, SERVICE
from proctor.auth.v1 import auth_face_pb2 as pb
from proctor.auth.v1 import auth_face_pb2_grpc
from proctor_runtime.testing.helpers import bearer
from proctor_runtime.testing.plugin import start_group_at_end
from proctor_runtime.tokens import Role, TokenSigner, TokenVerifier, generate_key
from proctor_runtime.topics import SESSION_EVENTS, ensure_topics, new_topics

pytestmark = pytest.mark.infra


def _photo() -> bytes:
    from skimage import data

    return jpeg(cv2.cvtColor(np.asarray(data.astronaut()), cv2.COLOR_RGB2BGR))


async def _snapshot(stub, staff, sid, session_id):
    enrolment = await stub.GetEnrolment(pb.GetEnrolmentRequest(sitting_id=sid, candidate_id="c0"), metadata=staff)
    session = await stub.GetSession(pb.GetSessionRequest(session_id=session_id), metadata=staff)
    return enrolment.SerializeToString(deterministic=True), session.SerializeToString(deterministic=True)


def _seeds(photo, challenge_ids):
    def seeds(method, ids):
        sid, cid = ids["sitting_id"], ids["candidate_id"]
        enrol = pb.EnrolCandidateRequest(sitting_id=sid, candidate_id=cid, id_photo=photo[:4000] + b"\x00" * 16,
                                         replace_existing=True)
        table = {
            "EnrolCandidate": lambda: [enrol],
            "BulkEnrol": lambda: [pb.BulkEnrolRequest(client_index=i, request=enrol) for i in (1, 2)],
            "StartLivenessChallenge": lambda: [pb.StartLivenessChallengeRequest(sitting_id=sid, candidate_id=cid,
                                                                                device=desktop(ids["device_id"]))],
            "VerifyLogin": lambda: [pb.VerifyLoginRequest(
                challenge_id=challenge_ids[cid], sitting_id=sid, candidate_id=cid, device=desktop(ids["device_id"]),
                frames=pb.FrameSet(frames=[pb.CapturedFrame(jpeg=photo[: 2000 * (i + 1)], step_index=0)
                                           for i in range(3)]))],
            "ReVerify": lambda: [pb.ReVerifyRequest(sitting_id=sid, candidate_id=cid, frame_jpeg=photo[:5000],
                                                    segment_id="st:1")],
            "RevokeSession": lambda: [pb.RevokeSessionRequest(session_id=ids["session_id"], reason="fuzz")],
            "StaffOverride": lambda: [pb.StaffOverrideRequest(sitting_id=sid, candidate_id=cid, kind=2, reason="fuzz",
                                                              client_request_id="fuzz-override")],
            "ClaimOverride": lambda: [pb.ClaimOverrideRequest(sitting_id=sid, candidate_id=cid, claim_code="ABCDEFGH",
                                                              device=desktop(ids["device_id"]))],
            "ResolveManualReview": lambda: [pb.ResolveManualReviewRequest(review_id="rv-1", resolution=1,
                                                                          reason="fuzz")],
            "DeleteTemplates": lambda: [pb.DeleteTemplatesRequest(sitting_id=sid, candidate_ids=[cid], reason="fuzz")],
        }
        make = table.get(method)
        return make() if make else None

    return seeds


@pytest.fixture(scope="module")
async def target(postgres, kafka_bootstrap):
    from proctor_faces import FacesSettings, load_pack

    pack = load_pack(FacesSettings())
    ensure_topics(kafka_bootstrap, new_topics())
    db = f"fuzz_auth_{uuid.uuid4().hex[:10]}"
    postgres.psql(f'CREATE DATABASE "{db}"')
    auth_signing, auth_public = generate_key("auth-face-fuzz-1")
    admin_signing, admin_public = generate_key("admin-fuzz-1")
    group = f"auth-face-fuzz-{uuid.uuid4().hex[:6]}"
    start_group_at_end(kafka_bootstrap, group, [SESSION_EVENTS.name])
    settings = Settings(database_url=SecretStr(postgres.settings.pg_dsn_for(db)), kafka_bootstrap=kafka_bootstrap,
                        kafka_group_id=group, kafka_offset_reset="earliest", token_signing_key=SecretStr(auth_signing),
                        token_public_keys=f"{auth_public},{admin_public}",
                        template_keys=SecretStr(template_key("tk-fuzz-1")), shutdown_grace_s=1,
                        prelogin_per_candidate_per_minute=1_000_000, prelogin_per_address_per_minute=1_000_000)
    clock = Clock(START)
    host = await build(settings, clock, challenge=lambda: list(CLIP_STEPS), loader=lambda _: pack)
    await host.start()
    channel = fuzz_channel(f"127.0.0.1:{host.port}")
    stub = auth_face_pb2_grpc.AuthFaceStub(channel)
    admin, auth = TokenSigner(admin_signing), TokenSigner(auth_signing)
    now = clock.now.timestamp()

    def issued(sub, role, **kw):
        return bearer(admin.issue(sub=sub, role=role, ttl_s=3600, now=now, **kw)[0])

    sid = f"s-{uuid.uuid4().hex[:8]}"
    staff = issued("staff-1", Role.STAFF)
    photo = _photo()
    sessions, tokens = {}, {}
    witness_sitting = f"w-{uuid.uuid4().hex[:8]}"  # never named by the fuzzer
    for s, cid in ((sid, "c0"), (sid, "c1"), (witness_sitting, "c2")):
        enrolled = await stub.EnrolCandidate(pb.EnrolCandidateRequest(sitting_id=s, candidate_id=cid, id_photo=photo),
                                             metadata=staff)
        assert enrolled.enrolled, enrolled
    for cid in ("c0", "c1"):
        code = await stub.StaffOverride(pb.StaffOverrideRequest(sitting_id=sid, candidate_id=cid, kind=1,
                                                                reason="admit for fuzz"), metadata=staff)
        session = await stub.ClaimOverride(pb.ClaimOverrideRequest(sitting_id=sid, candidate_id=cid,
                                                                   claim_code=code.claim_code,
                                                                   device=desktop(f"desk-{cid}")))
        sessions[cid], tokens[cid] = session.session_id, bearer(session.session_token)
    challenges = {cid: (await stub.StartLivenessChallenge(pb.StartLivenessChallengeRequest(
        sitting_id=sid, candidate_id=cid, device=desktop(f"desk-{cid}")))).challenge_id for cid in ("c0", "c1")}
    victim_claims = TokenVerifier([auth_public], clock=lambda: now).verify(tokens["c0"][0][1].split(" ", 1)[1])
    wrong = {"other_candidate": tokens["c1"], "proctor_other_sitting": issued("p2", Role.PROCTOR, sitting_id="s-x",
                                                                              rooms=("r1",)),
             "candidate_on_staff_rpcs": tokens["c1"], "phone_token": bearer(auth.issue(
                 sub="c0", role=Role.PHONE, ttl_s=3600, now=now, sitting_id=sid, candidate_id="c0",
                 device_id="phone-c0")[0]),
             "proctor_of_the_sitting": issued("p1", Role.PROCTOR, sitting_id=sid, rooms=("r1",))}
    anyone = {"none": (), "victim": tokens["c0"], "fuzzee": tokens["c1"], "staff": staff,
              "service": issued("anomaly", Role.SERVICE), "chief": issued("chief", Role.CHIEF_PROCTOR, sitting_id=sid),
              "proctor": issued("p1", Role.PROCTOR, sitting_id=sid, rooms=("r1",))}
    victim = {"sitting_id": sid, "candidate_id": "c0", "device_id": "desk-c0", "session_id": sessions["c0"],
              "challenge_id": challenges["c1"]}
    fuzzee = {"sitting_id": sid, "candidate_id": "c1", "device_id": "desk-c1", "session_id": sessions["c1"],
              "challenge_id": challenges["c1"]}
    pool = Pool({"sitting_id": [sid, "s-x"], "candidate_id": ["c0", "c1", "c2", "nobody"],
                 "candidate_ids": ["c0", "c1", "nobody"], "session_id": [sessions["c0"], sessions["c1"], "sess-x"],
                 "challenge_id": [*challenges.values(), "ch-x"], "device_id": ["desk-c0", "desk-c1"],
                 "claim_code": ["ABCDEFGH", "abcdefgh"], "review_id": ["rv-1", ""], "room_ids": ["r1", "r2"],
                 "jpeg": [photo[:3000], photo], "id_photo": [photo[:3000]], "frame_jpeg": [photo[:3000]],
                 "face_crop_jpeg": [photo[:3000]]})

    async def known_good():
        # the witness c2 (enrolled in a sitting the fuzzer never names) is admitted and holds a working session
        code = await stub.StaffOverride(pb.StaffOverrideRequest(sitting_id=witness_sitting, candidate_id="c2", kind=1,
                                                                reason="witness"), metadata=staff)
        session = await stub.ClaimOverride(pb.ClaimOverrideRequest(sitting_id=witness_sitting, candidate_id="c2",
                                                                   claim_code=code.claim_code,
                                                                   device=desktop("desk-c2")))
        info = await stub.GetSession(pb.GetSessionRequest(session_id=session.session_id),
                                     metadata=bearer(session.session_token))
        assert info.status == pb.SESSION_STATUS_ACTIVE, info
        enrolment = await stub.GetEnrolment(pb.GetEnrolmentRequest(sitting_id=witness_sitting, candidate_id="c2"),
                                            metadata=staff)
        assert enrolment.template_id

    t = Target(SERVICE, channel, frozenset(m.rsplit("/", 1)[1] for m in PUBLIC_METHODS), victim, fuzzee, pool,
               bad_tokens(auth, victim_claims, now), wrong, anyone,
               snapshot=lambda: _snapshot(stub, staff, sid, sessions["c0"]), known_good=known_good,
               seeds=_seeds(photo, challenges), owners=("fuzzee", "staff", "service"))
    t.baseline = await t.snapshot()
    yield t
    await close_fuzz_channel(channel)
    await host.stop()
    await asyncio.sleep(0)
    postgres.psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


globals().update(campaign_tests(SERVICE))

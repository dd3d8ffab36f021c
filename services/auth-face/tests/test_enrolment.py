"""Enrolment over gRPC on the real PostgreSQL/Kafka with the real default pack: quality gates,
bad input, idempotency, encryption at rest, bulk enrolment through the CLI, retention."""

import argparse
import csv

import cv2
import grpc
import numpy as np
import psycopg
import pytest
from auth_harness import bearer, huge_jpeg, kafka_events, refused

from proctor.auth.v1 import auth_face_pb2 as pb
from proctor.events.v1 import audit_pb2
from proctor_cli import commands_auth
from proctor_faces.analysis import analyse_work
from proctor_faces.enrol import embed_face
from proctor_runtime.tokens import Role
from proctor_runtime.topics import AUDIT

pytestmark = pytest.mark.infra
IA = grpc.StatusCode.INVALID_ARGUMENT


def issue_names(resp: pb.EnrolCandidateResponse) -> list[str]:
    return [pb.QualityIssueCode.Name(i.code).removeprefix("QUALITY_ISSUE_CODE_") for i in resp.quality.issues]


async def test_enrol_is_idempotent_encrypted_and_deletable(auth, photos, pg_dsn, pack):
    h = auth
    first = await h.enrol("c1", photos["astronaut"])
    assert first.enrolled and not first.unchanged and first.template_id.startswith("tpl-")
    assert first.quality.accepted and first.quality.face_count == 1 and first.quality.face_height_px > 100
    assert first.model_pack.id == pack.id and first.model_pack.version == pack.version
    again = await h.enrol("c1", photos["astronaut"])  # same photo: the same template back
    assert again.unchanged and again.template_id == first.template_id
    got = await refused(h.enrol("c1", photos["hanks"]), grpc.StatusCode.ALREADY_EXISTS, "TEMPLATE_EXISTS")
    assert got.metadata["template_id"] == first.template_id
    replaced = await h.enrol("c1", photos["hanks"], replace_existing=True, keep_photo=True)
    assert replaced.enrolled and replaced.template_id != first.template_id

    # at rest: AES-GCM ciphertext (+16-byte tag), never the raw float32 embedding; the photo sealed too
    img = np.frombuffer(photos["hanks"], np.uint8)
    work, faces = analyse_work(cv2.imdecode(img, cv2.IMREAD_COLOR), pack)
    raw = np.asarray(embed_face(work, faces[0], pack), "<f4").tobytes()
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute("SELECT ciphertext, key_id, photo_ciphertext, embedding_dim FROM templates"
                           " WHERE candidate_id = 'c1'").fetchone()
    ciphertext, key_id, photo_ct, dim = bytes(row[0]), row[1], bytes(row[2]), row[3]
    assert dim == 128 and len(ciphertext) == 128 * 4 + 16 and key_id == "tk-test-1"
    assert ciphertext[:-16] != raw and raw[:64] not in ciphertext
    assert photos["hanks"][:200] not in photo_ct and len(photo_ct) == len(photos["hanks"]) + 16

    enrolment = await h.stub.GetEnrolment(pb.GetEnrolmentRequest(sitting_id=h.sitting_id, candidate_id="c1"),
                                          metadata=h.staff())
    assert enrolment.template_id == replaced.template_id and enrolment.photo_kept

    # retention: a reason is required; deleting removes the row; deleting nothing is fine
    await refused(h.stub.DeleteTemplates(pb.DeleteTemplatesRequest(sitting_id=h.sitting_id), metadata=h.staff()),
                  IA, "REASON_REQUIRED")
    deleted = await h.stub.DeleteTemplates(pb.DeleteTemplatesRequest(
        sitting_id=h.sitting_id, reason="retention: sitting archived"), metadata=h.staff())
    assert deleted.deleted_count == 1
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM templates").fetchone()[0] == 0
    await refused(h.stub.GetEnrolment(pb.GetEnrolmentRequest(sitting_id=h.sitting_id, candidate_id="c1"),
                                      metadata=h.staff()), grpc.StatusCode.NOT_FOUND, "TEMPLATE_NOT_FOUND")
    again = await h.stub.DeleteTemplates(pb.DeleteTemplatesRequest(sitting_id=h.sitting_id, reason="again"),
                                         metadata=h.staff())
    assert again.deleted_count == 0

    audit = await kafka_events(h.bootstrap, AUDIT.name, audit_pb2.AuditEvent, h.sitting_id,
                               lambda got: [a.action for a in got].count("auth.templates.delete") >= 2
                               and [a.action for a in got].count("auth.enrol") >= 2)
    actions = [a.action for a in audit]
    assert actions.count("auth.enrol") == 2 and "auth.templates.delete" in actions


@pytest.mark.shared_data
async def test_quality_refusals_with_reasons(auth, photos, lamia):
    h = auth
    none = await h.enrol("c1", photos["coffee"])
    assert not none.enrolled and issue_names(none) == ["NO_FACE"] and not none.template_id
    assert none.quality.issues[0].message.zh == "未检测到人脸，请正对摄像头"
    several = await h.enrol("c2", photos["group"])
    assert not several.enrolled and "MULTIPLE_FACES" in issue_names(several)
    assert several.quality.face_count == 6
    masked = await h.enrol("c3", lamia["masked"])
    assert not masked.enrolled and "FACE_MASKED" in issue_names(masked)
    issue = next(i for i in masked.quality.issues if i.code == pb.QUALITY_ISSUE_CODE_FACE_MASKED)
    assert (issue.message.zh, issue.message.en) == ("请摘下口罩", "please remove your mask")
    assert issue.measured >= issue.limit > 0
    await refused(h.stub.GetEnrolment(pb.GetEnrolmentRequest(sitting_id=h.sitting_id, candidate_id="c3"),
                                      metadata=h.staff()), grpc.StatusCode.NOT_FOUND, "TEMPLATE_NOT_FOUND")


async def test_bad_input_gets_precise_errors(auth, photos):
    h = auth
    await refused(h.enrol("c1", b"GIF89a not really"), IA, "NOT_AN_IMAGE")
    data = photos["astronaut"]
    got = await refused(h.enrol("c1", data[: len(data) * 2 // 3]), IA, "IMAGE_TRUNCATED")
    assert got.metadata["field"] == "id_photo"
    got = await refused(h.enrol("c1", huge_jpeg()), IA, "IMAGE_TOO_LARGE")
    assert got.metadata["max_pixels"] == "25000000" and "megapixels" in got.message_en
    await refused(h.enrol("", data), IA, "FIELD_REQUIRED")
    # still serving after all that
    assert (await h.enrol("c1", data)).enrolled


async def test_authorisation_and_model_info(auth, photos, pack):
    h = auth
    await refused(h.stub.EnrolCandidate(pb.EnrolCandidateRequest(sitting_id=h.sitting_id, candidate_id="c1",
                                                                 id_photo=photos["astronaut"])),
                  grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")
    await refused(h.stub.EnrolCandidate(pb.EnrolCandidateRequest(sitting_id=h.sitting_id, candidate_id="c1",
                                                                 id_photo=photos["astronaut"]),
                                        metadata=h.service()), grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")
    info = await h.stub.GetModelInfo(pb.GetModelInfoRequest(), metadata=h.service())
    assert info.ready and info.pack.id == pack.id and info.embedding_dim == 128
    assert info.match_threshold == pytest.approx(pack.thresholds.verify_distance)
    assert "percentile" in info.threshold_provenance
    roles = [(c.role, c.runtime) for c in info.components]
    assert (pb.MODEL_ROLE_EMBEDDER, "dlib") in roles and (pb.MODEL_ROLE_LANDMARKS, "litert") in roles
    await refused(h.stub.GetModelInfo(pb.GetModelInfoRequest()), grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")


async def test_bulk_enrolment_through_the_cli(auth, photos, tmp_path):
    h = auth
    (tmp_path / "p").mkdir()
    for name in ("astronaut", "hanks", "group", "coffee"):
        (tmp_path / "p" / f"{name}.jpg").write_bytes(photos[name])
    (tmp_path / "p" / "broken.jpg").write_bytes(b"not a photo")
    listing = tmp_path / "list.csv"
    with listing.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["candidate_id", "name", "id_photo", "sitting_id", "room_id"])
        for i, photo in enumerate(["astronaut", "hanks", "group", "coffee", "broken", "missing"]):
            w.writerow([f"c{i}", f"考生{i}", f"{photo}.jpg", h.sitting_id, "r1"])
    parser = argparse.ArgumentParser()
    commands_auth.register(parser.add_subparsers())
    token = h.admin.issue(sub="staff-cli", role=Role.STAFF, ttl_s=600, now=h.clock.now.timestamp())[0]
    report = tmp_path / "rejected.csv"
    args = parser.parse_args(["enrol", "--csv", str(listing), "--photos-root", str(tmp_path / "p"), "--report",
                              str(report), "--target", f"127.0.0.1:{h.host.port}", "--token", token, "--json"])
    assert args.handler is commands_auth.enrol_command
    result = await commands_auth.enrol(args)  # the command's body, on this test's event loop
    assert (result["enrolled"], result["refused"], result["errors"], result["rejected"]) == (2, 2, 1, 4)
    with report.open(encoding="utf-8") as f:
        rows = {r["candidate_id"]: r for r in csv.DictReader(f)}
    assert rows["c2"]["reason"].startswith("MULTIPLE_FACES") and rows["c3"]["reason"] == "NO_FACE"
    assert rows["c4"]["reason"] == "NOT_AN_IMAGE" and rows["c5"]["reason"] == "PHOTO_NOT_FOUND"
    assert rows["c3"]["message_zh"] == "未检测到人脸，请正对摄像头"
    again = await commands_auth.enrol(args)  # a re-run changes nothing
    assert again["unchanged"] == 2 and again["enrolled"] == 0
    # a candidate token may read its own enrolment only
    own = h.admin.issue(sub="c0", role=Role.CANDIDATE, ttl_s=600, now=h.clock.now.timestamp(), sitting_id=h.sitting_id,
                        candidate_id="c0")[0]
    got = await h.stub.GetEnrolment(pb.GetEnrolmentRequest(sitting_id=h.sitting_id, candidate_id="c0"),
                                    metadata=bearer(own))
    assert got.quality.accepted and not got.photo_kept
    await refused(h.stub.GetEnrolment(pb.GetEnrolmentRequest(sitting_id=h.sitting_id, candidate_id="c1"),
                                      metadata=bearer(own)), grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_CANDIDATE")

"""Re-verification for the anomaly service: frames, face crops and embeddings against the sealed
template; INCONCLUSIVE with the reason when the face is masked, too small, turned away or absent."""

import cv2
import grpc
import numpy as np
import pytest
from auth_harness import jpeg, refused
from skimage import data

from proctor.auth.v1 import auth_face_pb2 as pb
from proctor.common.v1 import common_pb2
from proctor_faces.analysis import analyse_work
from proctor_faces.enrol import embed_face

pytestmark = [pytest.mark.infra, pytest.mark.shared_data]
DECISION = {pb.MATCH_DECISION_MATCH: "MATCH", pb.MATCH_DECISION_MISMATCH: "MISMATCH",
            pb.MATCH_DECISION_INCONCLUSIVE: "INCONCLUSIVE"}


def reasons(resp: pb.ReVerifyResponse) -> list[str]:
    return [pb.QualityIssueCode.Name(r).removeprefix("QUALITY_ISSUE_CODE_") for r in resp.match.inconclusive_reasons]


async def test_reverify_decisions(auth, lamia, photos, pack):
    h = auth
    enrolled = await h.enrol("c1", lamia["id_photo"])
    md = h.service("anomaly")

    async def check(**probe) -> pb.ReVerifyResponse:
        return await h.stub.ReVerify(pb.ReVerifyRequest(sitting_id=h.sitting_id, candidate_id="c1", **probe),
                                     metadata=md)

    frontal = lamia["frames"][80][1]  # a frame of the clip, facing the camera
    same = await check(frame_jpeg=frontal)
    assert DECISION[same.match.decision] == "MATCH" and same.face_count == 1
    assert same.template_id == enrolled.template_id and same.match.distance < same.match.threshold
    other = await check(frame_jpeg=photos["astronaut"])
    assert DECISION[other.match.decision] == "MISMATCH" and other.match.distance > other.match.threshold
    masked = await check(frame_jpeg=lamia["masked"])
    assert DECISION[masked.match.decision] == "INCONCLUSIVE" and reasons(masked) == ["FACE_MASKED"]
    away = await check(frame_jpeg=lamia["looking_up"])
    assert DECISION[away.match.decision] == "INCONCLUSIVE" and reasons(away) == ["NOT_FRONTAL"]
    none = await check(frame_jpeg=photos["coffee"])
    assert DECISION[none.match.decision] == "INCONCLUSIVE" and reasons(none) == ["NO_FACE"]
    img = cv2.cvtColor(np.asarray(data.astronaut()), cv2.COLOR_RGB2BGR)
    canvas = np.full((480, 640, 3), 120, np.uint8)
    canvas[150:330, 230:410] = cv2.resize(img, (180, 180))
    small = await check(frame_jpeg=jpeg(canvas))
    assert DECISION[small.match.decision] == "INCONCLUSIVE" and reasons(small) == ["FACE_TOO_SMALL"]
    # a face crop (the service pads tight crops itself)
    decoded = cv2.imdecode(np.frombuffer(frontal, np.uint8), cv2.IMREAD_COLOR)
    work, faces = analyse_work(decoded, pack)
    x0, y0, x1, y1 = (int(v) for v in faces[0].detection.box)
    crop = await check(face_crop_jpeg=jpeg(decoded[max(0, y0 - 10):y1 + 10, max(0, x0 - 10):x1 + 10]))
    assert DECISION[crop.match.decision] == "MATCH"
    # an embedding computed by the caller with the same pack: the cheapest probe
    values = [float(v) for v in embed_face(work, faces[0], pack)]
    ref = common_pb2.ModelPackRef(id=pack.id, version=pack.version)
    emb = await check(embedding=pb.FaceEmbedding(values=values, model_pack=ref))
    assert DECISION[emb.match.decision] == "MATCH" and emb.match.distance == pytest.approx(same.match.distance, abs=0.1)
    await refused(check(embedding=pb.FaceEmbedding(values=values, model_pack=common_pb2.ModelPackRef(
        id="proctor-insightface", version="1.0.0"))), grpc.StatusCode.FAILED_PRECONDITION, "MODEL_PACK_MISMATCH")
    await refused(check(embedding=pb.FaceEmbedding(values=values[:64], model_pack=ref)),
                  grpc.StatusCode.INVALID_ARGUMENT, "FIELD_INVALID")
    # bad input and refusals
    await refused(check(frame_jpeg=b"\x89PNG\r\n\x1a\n broken"), grpc.StatusCode.INVALID_ARGUMENT, "NOT_AN_IMAGE")
    await refused(check(), grpc.StatusCode.INVALID_ARGUMENT, "FIELD_REQUIRED")
    await refused(h.stub.ReVerify(pb.ReVerifyRequest(sitting_id=h.sitting_id, candidate_id="c9",
                                                     frame_jpeg=frontal), metadata=md),
                  grpc.StatusCode.NOT_FOUND, "TEMPLATE_NOT_FOUND")
    await refused(h.stub.ReVerify(pb.ReVerifyRequest(sitting_id=h.sitting_id, candidate_id="c1", frame_jpeg=frontal),
                                  metadata=h.staff()), grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")

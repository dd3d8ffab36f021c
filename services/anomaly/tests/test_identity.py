"""AuthFaceClient: the embedding goes out instead of the crop; the crop only when auth-face refuses the
embedding (the template was made with another pack)."""

from __future__ import annotations

import grpc
import numpy as np
from anomaly_clips import frame_at

from anomaly.identity import AuthFaceClient, FaceEmbedding
from anomaly.model import IdentityRequest
from proctor.auth.v1 import auth_face_pb2 as apb
from proctor_runtime.identity import ServiceIdentity


class Refused(grpc.aio.AioRpcError):
    def __init__(self) -> None:
        super().__init__(grpc.StatusCode.FAILED_PRECONDITION, grpc.aio.Metadata(), grpc.aio.Metadata(),
                         details="MODEL_PACK_MISMATCH")


class Stub:
    def __init__(self, refuse_embedding: bool) -> None:
        self.refuse_embedding = refuse_embedding
        self.sent: list[apb.ReVerifyRequest] = []

    async def ReVerify(self, req, **_call):
        self.sent.append(req)
        if req.WhichOneof("probe") == "embedding" and self.refuse_embedding:
            raise Refused()
        return apb.ReVerifyResponse(match=apb.MatchResult(decision=apb.MATCH_DECISION_MATCH, distance=0.2,
                                                          threshold=0.42))


def client(stub: Stub) -> AuthFaceClient:
    c = AuthFaceClient("127.0.0.1:1", ServiceIdentity("anomaly", static_token="t"))
    c.stub = stub  # type: ignore[assignment]
    return c


REQUEST = IdentityRequest(frame=frame_at(3.0), face_box=(40, 40, 80, 80), reason="PERIODIC")
EMBEDDING = FaceEmbedding(np.full(128, 1 / np.sqrt(128), np.float32), "proctor-default", "1.0.0")


async def test_the_embedding_is_sent_instead_of_the_crop():
    stub = Stub(refuse_embedding=False)
    result = await client(stub).reverify("sit-1", "cand-1", REQUEST, EMBEDDING)
    assert result is not None and result.decision == apb.MATCH_DECISION_MATCH
    (sent,) = stub.sent
    assert sent.WhichOneof("probe") == "embedding" and not sent.face_crop_jpeg
    assert len(sent.embedding.values) == 128
    assert (sent.embedding.model_pack.id, sent.embedding.model_pack.version) == ("proctor-default", "1.0.0")
    assert sent.segment_id == "stream-1:0"


async def test_a_refused_embedding_falls_back_to_the_crop_and_no_embedding_sends_the_crop():
    stub = Stub(refuse_embedding=True)
    result = await client(stub).reverify("sit-1", "cand-1", REQUEST, EMBEDDING)
    assert result is not None
    assert [r.WhichOneof("probe") for r in stub.sent] == ["embedding", "face_crop_jpeg"]
    stub = Stub(refuse_embedding=False)
    assert await client(stub).reverify("sit-1", "cand-1", REQUEST) is not None
    assert [r.WhichOneof("probe") for r in stub.sent] == ["face_crop_jpeg"]

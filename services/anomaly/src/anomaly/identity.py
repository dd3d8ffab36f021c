"""Identity re-verification through auth-face's ReVerify (service token; the face's embedding,
computed here with the same model pack, goes out, or a padded face crop when it could not be
computed; a decision comes back; templates never leave auth-face)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import grpc
import numpy as np

from anomaly import metrics
from anomaly.model import IdentityRequest, IdentityResult
from proctor.auth.v1 import auth_face_pb2 as apb
from proctor.auth.v1 import auth_face_pb2_grpc
from proctor.common.v1 import common_pb2
from proctor_runtime import channels
from proctor_runtime.events import ts
from proctor_runtime.identity import ServiceIdentity

log = logging.getLogger(__name__)
PAD = 0.3


def face_crop_jpeg(req: IdentityRequest) -> bytes:
    image = req.frame.image
    x, y, w, h = req.face_box
    px, py = int(w * PAD), int(h * PAD)
    crop = image[max(0, y - py):min(image.shape[0], y + h + py), max(0, x - px):min(image.shape[1], x + w + px)]
    ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise ValueError("could not encode the face crop")
    return buf.tobytes()


@dataclass(frozen=True)
class FaceEmbedding:
    """An embedding computed here, and the pack (id, version) that computed it."""

    values: np.ndarray
    pack_id: str
    pack_version: str

    def proto(self) -> apb.FaceEmbedding:
        return apb.FaceEmbedding(values=[float(v) for v in self.values],
                                 model_pack=common_pb2.ModelPackRef(id=self.pack_id, version=self.pack_version))


@dataclass
class AuthFaceClient:
    target: str
    identity: ServiceIdentity
    timeout_s: float = 5.0

    def __post_init__(self) -> None:
        self.channel = channels.channel(self.target)
        self.stub = auth_face_pb2_grpc.AuthFaceStub(self.channel)

    async def close(self) -> None:
        await self.channel.close()

    async def reverify(self, sitting_id: str, candidate_id: str, req: IdentityRequest,
                       embedding: FaceEmbedding | None = None) -> IdentityResult | None:
        """auth-face's decision, or None when it could not be asked (no template, unavailable):
        metered and logged, the next periodic check tries again; never an incident by itself.
        With ``embedding`` auth-face only compares; if it refuses the embedding (the template was
        made with another pack), the face crop is sent instead."""
        base = {"sitting_id": sitting_id, "candidate_id": candidate_id, "capture_time": ts(req.frame.captured_at),
                "segment_id": req.frame.segment_id}
        try:
            if embedding is not None:
                try:
                    reply = await self.stub.ReVerify(apb.ReVerifyRequest(**base, embedding=embedding.proto()),
                                                     timeout=self.timeout_s, metadata=self.identity.metadata())
                except grpc.aio.AioRpcError as exc:
                    if exc.code() != grpc.StatusCode.FAILED_PRECONDITION:
                        raise
                    metrics.IDENTITY.labels("embedding_refused").inc()
                    embedding = None
            if embedding is None:
                reply = await self.stub.ReVerify(apb.ReVerifyRequest(**base, face_crop_jpeg=face_crop_jpeg(req)),
                                                 timeout=self.timeout_s, metadata=self.identity.metadata())
        except grpc.aio.AioRpcError as exc:
            outcome = "template_missing" if exc.code() == grpc.StatusCode.NOT_FOUND else exc.code().name.lower()
            metrics.IDENTITY.labels(outcome).inc()
            log.warning("identity check not done", extra={"candidate_id": candidate_id, "code": exc.code().name,
                                                          "detail": exc.details()})
            return None
        metrics.IDENTITY.labels(apb.MatchDecision.Name(reply.match.decision).lower()).inc()
        return IdentityResult(req, reply.match.decision, reply.match.distance, reply.match.threshold,
                              reply.face_count)

"""Identity re-verification through auth-face's ReVerify (service token; a padded face crop goes
out, a decision comes back; templates never leave auth-face)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import grpc

from anomaly import metrics
from anomaly.model import IdentityRequest, IdentityResult
from proctor.auth.v1 import auth_face_pb2 as apb
from proctor.auth.v1 import auth_face_pb2_grpc
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


@dataclass
class AuthFaceClient:
    target: str
    identity: ServiceIdentity
    timeout_s: float = 5.0

    def __post_init__(self) -> None:
        self.channel = grpc.aio.insecure_channel(self.target)
        self.stub = auth_face_pb2_grpc.AuthFaceStub(self.channel)

    async def close(self) -> None:
        await self.channel.close()

    async def reverify(self, sitting_id: str, candidate_id: str, req: IdentityRequest) -> IdentityResult | None:
        """auth-face's decision, or None when it could not be asked (no template, unavailable):
        metered and logged, the next periodic check tries again; never an incident by itself."""
        try:
            reply = await self.stub.ReVerify(apb.ReVerifyRequest(
                sitting_id=sitting_id, candidate_id=candidate_id, face_crop_jpeg=face_crop_jpeg(req),
                capture_time=ts(req.frame.captured_at), segment_id=req.frame.segment_id),
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

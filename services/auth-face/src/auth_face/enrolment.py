"""Enrolment (one, bulk), enrolment lookup, retention (template deletion), re-verification for the
anomaly service and the model-pack description."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import numpy as np

from auth_face import access, convert, crypto, domain, events, media, metrics, store
from auth_face.core import Core, new_id
from auth_face.domain import QualityVerdict
from proctor.auth.v1 import auth_face_pb2 as pb
from proctor.common.v1 import common_pb2
from proctor_faces import ModelPack
from proctor_runtime.errors import AlreadyExists, DomainError, FailedPrecondition, InvalidArgument, NotFound
from proctor_runtime.events import ts
from proctor_runtime.tokens import Claims, Role

log = logging.getLogger(__name__)
RUNTIMES = {"mediapipe": "litert", "dlib_resnet": "dlib", "insightface_pack": "onnxruntime"}


def pack_ref(pack: ModelPack) -> common_pb2.ModelPackRef:
    return common_pb2.ModelPackRef(id=pack.id, version=pack.version)


def template_not_found(sitting_id: str, candidate_id: str) -> NotFound:
    return NotFound("TEMPLATE_NOT_FOUND", f"candidate {candidate_id!r} of sitting {sitting_id!r} is not enrolled",
                    "该考生尚未采集人脸", {"candidate_id": candidate_id})


def pack_mismatch(template_pack: str, current: str) -> FailedPrecondition:
    return FailedPrecondition("MODEL_PACK_MISMATCH", f"the template was made with {template_pack}, the service runs "
                              f"{current}: re-enrol the candidate", "人脸模板与当前模型不匹配，需要重新采集",
                              {"template_pack": template_pack, "pack": current})


class Enrolments:
    def __init__(self, core: Core) -> None:
        self.core = core

    # --- enrol -------------------------------------------------------------------------------------------
    async def enrol(self, claims: Claims | None, req: pb.EnrolCandidateRequest) -> pb.EnrolCandidateResponse:
        return await self._enrol(access.staff(claims), req)

    async def _enrol(self, caller: Claims, req: pb.EnrolCandidateRequest) -> pb.EnrolCandidateResponse:
        core = self.core
        sitting_id = domain.required(req.sitting_id, "sitting_id")
        candidate_id = domain.required(req.candidate_id, "candidate_id")
        pack = core.inference.require()
        digest = hashlib.sha256(req.id_photo).digest()
        async with core.pool.connection() as conn:
            existing = await store.get_template(conn, sitting_id, candidate_id)
        if existing is not None and existing.photo_sha256 == digest:
            metrics.ENROLMENTS.labels("unchanged").inc()
            return self._response(existing, unchanged=True)
        if existing is not None and not req.replace_existing:
            raise self._exists(existing)
        if len(req.id_photo) > core.settings.max_photo_bytes:
            raise media.too_many_bytes("id_photo", len(req.id_photo), core.settings.max_photo_bytes)
        verdict, embedding = await core.inference.run(self._analyse_photo, req.id_photo)
        if embedding is None:
            metrics.ENROLMENTS.labels("refused").inc()
            return pb.EnrolCandidateResponse(enrolled=False, quality=convert.quality(verdict),
                                             model_pack=pack_ref(pack))
        now = core.clock()
        row = self._seal(sitting_id, candidate_id, pack, embedding, verdict, req, digest, caller.sub, now)
        async with core.tx() as t:
            current = await store.get_template(t.conn, sitting_id, candidate_id, lock=True)
            if current is not None and current.photo_sha256 == digest:
                return self._response(current, unchanged=True)
            if current is not None and not req.replace_existing:
                raise self._exists(current)
            await store.put_template(t.conn, row)
            t.audit(events.audit_event(
                access.actor(caller), "auth.enrol", sitting_id, candidate_id, now, target_type="template",
                target_id=row.template_id, attributes={
                    "replaced_template_id": current.template_id if current else "", "pack": pack.template_tag(),
                    "photo_kept": str(row.photo_ciphertext is not None).lower()}), candidate_id)
        metrics.ENROLMENTS.labels("replaced" if current else "enrolled").inc()
        return self._response(row, unchanged=False)

    def _analyse_photo(self, data: bytes) -> tuple[QualityVerdict, np.ndarray | None]:
        """On the inference thread: decode with limits, run the gates, embed."""
        s = self.core.settings
        with metrics.timed("enrol", "decode"):
            image = media.decode_image(data, media.Limits(s.max_photo_bytes, s.max_pixels), "id_photo",
                                       exif_orientation=True)
        return self.core.inference.enrol_photo(image)

    def _seal(self, sitting_id: str, candidate_id: str, pack: ModelPack, embedding: np.ndarray,
              verdict: QualityVerdict, req: pb.EnrolCandidateRequest, digest: bytes, by: str,
              now: datetime) -> store.TemplateRow:
        cipher = self.core.cipher
        template_id = new_id("tpl")
        vec = np.asarray(embedding, dtype="<f4")
        sealed = cipher.seal(vec.tobytes(), crypto.template_aad(sitting_id, candidate_id, template_id, "template"))
        photo = cipher.seal(req.id_photo, crypto.template_aad(sitting_id, candidate_id, template_id, "photo")) \
            if req.keep_photo else None
        return store.TemplateRow(
            sitting_id=sitting_id, candidate_id=candidate_id, template_id=template_id, pack_id=pack.id,
            pack_version=pack.version, template_tag=pack.template_tag(), embedding_dim=int(vec.size),
            key_id=sealed.key_id, nonce=sealed.nonce, ciphertext=sealed.ciphertext, photo_sha256=digest,
            photo_nonce=photo.nonce if photo else None, photo_ciphertext=photo.ciphertext if photo else None,
            quality=convert.quality(verdict).SerializeToString(), enrolled_at=now, enrolled_by=by)

    @staticmethod
    def _exists(row: store.TemplateRow) -> AlreadyExists:
        return AlreadyExists("TEMPLATE_EXISTS", "the candidate is already enrolled from another photo; set "
                             "replace_existing to replace it", "该考生已使用其他照片采集人脸，如需替换请选择覆盖",
                             {"template_id": row.template_id})

    @staticmethod
    def _response(row: store.TemplateRow, unchanged: bool) -> pb.EnrolCandidateResponse:
        return pb.EnrolCandidateResponse(
            enrolled=True, quality=pb.FaceQuality.FromString(row.quality), template_id=row.template_id,
            model_pack=common_pb2.ModelPackRef(id=row.pack_id, version=row.pack_version),
            enrolled_at=ts(row.enrolled_at), unchanged=unchanged)

    async def bulk(self, claims: Claims | None,
                   requests: AsyncIterator[pb.BulkEnrolRequest]) -> AsyncIterator[pb.BulkEnrolResult]:
        """Items are enrolled concurrently (at most ``bulk_enrol_concurrency`` in flight, which is also
        how far ahead the request stream is read); each result is sent as soon as it is ready."""
        caller = access.staff(claims)
        results: asyncio.Queue[pb.BulkEnrolResult | None] = asyncio.Queue()
        slots = asyncio.Semaphore(self.core.settings.bulk_enrol_concurrency)
        running: set[asyncio.Task[None]] = set()

        async def one(item: pb.BulkEnrolRequest) -> None:
            out = pb.BulkEnrolResult(client_index=item.client_index, candidate_id=item.request.candidate_id)
            try:
                out.response.CopyFrom(await self._enrol(caller, item.request))
            except DomainError as exc:
                metrics.ENROLMENTS.labels("error").inc()
                out.error.CopyFrom(item_error(exc))
            except Exception:
                log.exception("bulk enrolment item failed", extra={"client_index": item.client_index})
                out.error.CopyFrom(common_pb2.ItemError(code="INTERNAL", detail=common_pb2.ErrorDetail(
                    reason="INTERNAL", message_en="internal error", message_zh="内部错误")))
            finally:
                slots.release()
            await results.put(out)

        async def feed() -> None:
            try:
                async for item in requests:
                    await slots.acquire()
                    task = asyncio.create_task(one(item))
                    running.add(task)
                    task.add_done_callback(running.discard)
                await asyncio.gather(*list(running))
            finally:
                await results.put(None)

        feeder = asyncio.create_task(feed())
        try:
            while (result := await results.get()) is not None:
                yield result
            await feeder
        finally:
            feeder.cancel()
            for task in list(running):
                task.cancel()

    async def get(self, claims: Claims | None, req: pb.GetEnrolmentRequest) -> pb.Enrolment:
        access.own_or(claims, req.sitting_id, req.candidate_id, Role.STAFF, Role.SERVICE)
        async with self.core.pool.connection() as conn:
            row = await store.get_template(conn, req.sitting_id, req.candidate_id)
        if row is None:
            raise template_not_found(req.sitting_id, req.candidate_id)
        return pb.Enrolment(sitting_id=row.sitting_id, candidate_id=row.candidate_id, template_id=row.template_id,
                            model_pack=common_pb2.ModelPackRef(id=row.pack_id, version=row.pack_version),
                            quality=pb.FaceQuality.FromString(row.quality), enrolled_at=ts(row.enrolled_at),
                            photo_kept=row.photo_ciphertext is not None)

    async def delete(self, claims: Claims | None, req: pb.DeleteTemplatesRequest) -> pb.DeleteTemplatesResponse:
        caller = access.staff(claims)
        sitting_id = domain.required(req.sitting_id, "sitting_id")
        reason = domain.required_reason(req.reason, "deleting templates")
        ids = [c.strip() for c in req.candidate_ids if c.strip()]
        now = self.core.clock()
        async with self.core.tx() as t:
            count = await store.delete_templates(t.conn, sitting_id, ids)
            key = ids[0] if len(ids) == 1 else caller.sub
            t.audit(events.audit_event(
                access.actor(caller), "auth.templates.delete", sitting_id, ids[0] if len(ids) == 1 else "", now,
                reason=reason, target_type="sitting" if not ids else "candidates", target_id=sitting_id,
                attributes={"deleted_count": str(count), "candidate_ids": ",".join(ids)[:2000]}), key)
        return pb.DeleteTemplatesResponse(deleted_count=count)

    # --- re-verification -------------------------------------------------------------------------------
    async def reverify(self, claims: Claims | None, req: pb.ReVerifyRequest) -> pb.ReVerifyResponse:
        access.service(claims)
        core = self.core
        pack = core.inference.require()
        async with core.pool.connection() as conn:
            found = await core.load_template(conn, req.sitting_id, req.candidate_id)
        if found is None:
            raise template_not_found(req.sitting_id, req.candidate_id)
        row, template = found
        if row.template_tag != pack.template_tag():
            raise pack_mismatch(row.template_tag, pack.template_tag())
        probe = req.WhichOneof("probe")
        if probe == "embedding":
            match = core.inference.compare(self._embedding(req.embedding, row), template)
        elif probe in ("frame_jpeg", "face_crop_jpeg"):
            data = getattr(req, probe)
            match = await core.inference.run(self._reverify_image, data, probe, template)
        else:
            raise InvalidArgument("FIELD_REQUIRED", "send frame_jpeg, face_crop_jpeg or embedding", "缺少比对图像",
                                  {"field": "probe"})
        metrics.REVERIFY.labels(match.decision.value).inc()
        return pb.ReVerifyResponse(match=convert.match(match), face_count=match.face_count,
                                   template_id=row.template_id, model_pack=pack_ref(pack))

    def _reverify_image(self, data: bytes, field: str, template: np.ndarray) -> domain.Match:
        s = self.core.settings
        with metrics.timed("reverify", "decode"):
            image = media.decode_image(data, media.Limits(s.max_photo_bytes, s.max_pixels), field)
        return self.core.inference.reverify_image(image, template)

    @staticmethod
    def _embedding(e: pb.FaceEmbedding, row: store.TemplateRow) -> np.ndarray:
        if (e.model_pack.id, e.model_pack.version) != (row.pack_id, row.pack_version):
            raise pack_mismatch(f"{row.pack_id}@{row.pack_version}", f"{e.model_pack.id}@{e.model_pack.version}")
        vec = np.asarray(e.values, dtype=np.float32)
        if vec.size != row.embedding_dim or not np.all(np.isfinite(vec)):
            raise InvalidArgument("FIELD_INVALID", f"the embedding must have {row.embedding_dim} finite values",
                                  "特征向量无效", {"field": "embedding.values"})
        return vec

    # --- model info ------------------------------------------------------------------------------------
    def model_info(self, claims: Claims | None) -> pb.ModelInfo:
        access.authenticated(claims)
        pack = self.core.inference.require()
        raw = pack.thresholds.raw
        described = raw.get("pack", {}).get("components", {})
        out = pb.ModelInfo(pack=pack_ref(pack), match_threshold=pack.thresholds.verify_distance,
                           threshold_provenance=provenance(raw), embedding_dim=int(pack.embedder.dim),
                           distance_metric="euclidean (L2-normalised embeddings)", ready=pack.warmed)
        parts = [(pb.MODEL_ROLE_DETECTOR, "detector", pack.detector), (pb.MODEL_ROLE_LANDMARKS, "landmarks",
                                                                      pack.landmarker),
                 (pb.MODEL_ROLE_EMBEDDER, "embedder", pack.embedder)]
        if pack.count_detector is not None and pack.count_detector is not pack.detector:
            parts.insert(1, (pb.MODEL_ROLE_DETECTOR, "detector", pack.count_detector))
        for role, name, part in parts:
            module = type(part).__module__.rsplit(".", 1)[-1]
            out.components.add(role=role, id=part.id, version=part.version, runtime=RUNTIMES.get(module, module),
                               licence=str(described.get(name, "")))
        return out


def provenance(raw: dict[str, Any]) -> str:
    cal = raw.get("calibration", {})
    vd = cal.get("verify_distance")
    if not isinstance(vd, dict):
        return "not calibrated: the pack's configured starting point (calibrate with `proctor eval verify`)"
    facts = ", ".join(f"{k}={vd[k]}" for k in ("chosen", "pairs_scored", "eer", "tar_at_far_1pct",
                                                "tar_at_far_0_1pct") if k in vd)
    return f"{vd.get('rule', '')}; {facts}; data: {cal.get('data', '')}; date: {cal.get('date', '')}"


def item_error(exc: DomainError) -> common_pb2.ItemError:
    return common_pb2.ItemError(code=exc.code.name, detail=common_pb2.ErrorDetail(
        reason=exc.reason, message_en=exc.message_en, message_zh=exc.message_zh, metadata=exc.metadata))

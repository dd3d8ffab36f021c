"""The upload server's rules with I/O: open, chunks (durable before the ack), seal, close + verify,
candidate completeness, status and manifests. The gRPC layer only converts.

Durability order of a chunk: lock the stream row → check the chunk against the committed state
→ compare re-sent bytes with the stored ones → write the new bytes and fsync (or PUT) → record
the new committed count (and the seal, the chain and the MediaSegmentReceived outbox row) → commit
→ acknowledge. A crash anywhere before the commit leaves at most unacknowledged bytes beyond the
committed count, which the next write at that offset replaces.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from psycopg_pool import AsyncConnectionPool

from media_ingest import access, events, metrics, store
from media_ingest.chain import chain_next, chain_seed
from media_ingest.config import Settings
from media_ingest.domain import Chunk, SegmentState, check_chunk, check_overlap, plan_chunk, ranges
from media_ingest.exam_client import ExamSessionClient, required_kinds
from media_ingest.store import SegmentRow, StreamRow, UploadRow
from proctor.common.v1 import common_pb2
from proctor.events.v1 import media_pb2
from proctor.media.v1 import media_ingest_pb2 as pb
from proctor_runtime import outbox, topics
from proctor_runtime.errors import (
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)
from proctor_runtime.events import from_ts
from proctor_runtime.outbox import Tx
from proctor_runtime.ratelimit import RateLimiter
from proctor_runtime.tokens import Claims, Role, require_role
from proctor_storage.store import SealMismatch, SegmentStore, StorageError, StorageFull

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_KEY_CHARS = 128
DEFAULT_PAGE, MAX_PAGE = 1000, 5000


def utcnow() -> datetime:
    return datetime.now(UTC)


def stream_not_found(stream_id: str) -> NotFound:
    # a giant id is not echoed whole: the status and its metadata travel in the reply's headers
    shown = stream_id if len(stream_id) <= MAX_KEY_CHARS else stream_id[:MAX_KEY_CHARS] + "..."
    return NotFound("STREAM_NOT_FOUND", f"no media stream {shown!r}; open it first", "录像流不存在，请重新开始上传",
                    {"stream_id": shown})


def stream_closed(s: StreamRow) -> FailedPrecondition:
    return FailedPrecondition("STREAM_CLOSED", "this recording was closed; open a new stream", "该录像流已结束上传",
                              {"state": pb.StreamState.Name(s.state)})


def not_ready() -> Unavailable:
    return Unavailable("NOT_READY", "media-ingest is starting; retry shortly", "服务正在启动，请稍后重试")


def window_closed(deadline: datetime) -> FailedPrecondition:
    return FailedPrecondition("UPLOAD_WINDOW_CLOSED", "uploads for this exam are closed; contact the exam staff",
                              "本场考试的录像上传已截止，请联系考务人员", {"upload_deadline": deadline.isoformat()})


@dataclass
class Uploads:
    settings: Settings
    pool: AsyncConnectionPool
    relay: outbox.OutboxRelay | None
    objects: SegmentStore
    exam: ExamSessionClient
    clock: Callable[[], datetime] = utcnow
    ready: bool = False
    io: ThreadPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        self.limits = self.settings.limits()
        self.io = ThreadPoolExecutor(self.settings.io_threads, thread_name_prefix="storage")
        self.open_limiter = RateLimiter(per_minute=self.settings.open_per_candidate_per_minute)

    async def _io(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking storage call in the I/O threads; storage failures become precise statuses."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self.io, fn, *args)
        except StorageFull as exc:
            metrics.STORAGE_ERRORS.labels("full").inc()
            raise ResourceExhausted("STORAGE_FULL", "the server cannot store more right now; nothing of this chunk "
                                    "was acknowledged, retry later", "服务器存储空间暂时不足，请稍后重试上传") from exc
        except SealMismatch:
            raise
        except StorageError as exc:
            metrics.STORAGE_ERRORS.labels("error").inc()
            log.error("storage failure", extra={"error": str(exc)})
            raise Unavailable("STORAGE_UNAVAILABLE", "storage failed; nothing was acknowledged, retry",
                              "存储暂时不可用，请重试") from exc

    def tx(self) -> Any:
        return outbox.transaction(self.pool, self.relay)

    def _check_ready(self) -> None:
        if not self.ready:
            raise not_ready()

    def _window(self, deadline: datetime, now: datetime) -> bool:
        """True when late (after the deadline); raises once the late window has closed too."""
        if now > deadline + timedelta(seconds=self.settings.late_upload_window_s):
            raise window_closed(deadline)
        return now > deadline

    # --- open ----------------------------------------------------------------------------------------

    async def open_stream(self, claims: Claims | None, req: pb.OpenStreamRequest) -> pb.OpenStreamResponse:
        self._check_ready()
        caller = require_role(claims, Role.CANDIDATE, Role.PHONE)
        for name in ("sitting_id", "candidate_id", "client_stream_key"):
            if not getattr(req, name):
                raise InvalidArgument("FIELD_REQUIRED", f"{name} is required", "请求缺少必填字段", {"field": name})
        if req.kind not in access.PHONE_KINDS + access.DESKTOP_KINDS:
            raise InvalidArgument("FIELD_INVALID", "kind must be a known stream kind", "录像类型无效",
                                  {"field": "kind"})
        if len(req.client_stream_key) > MAX_KEY_CHARS:
            raise InvalidArgument("FIELD_INVALID", f"client_stream_key is at most {MAX_KEY_CHARS} characters",
                                  "录像标识过长", {"field": "client_stream_key"})
        if req.format.container == common_pb2.MEDIA_CONTAINER_UNSPECIFIED:
            raise InvalidArgument("UNSUPPORTED_FORMAT", "format.container is required (fMP4, WebM, MPEG-TS, MP4, "
                                  "Matroska)", "录像格式不受支持", {"field": "format.container"})
        access.owns(caller, req.sitting_id, req.candidate_id, req.kind, caller.device_id)
        if req.device_id and caller.device_id and req.device_id != caller.device_id:
            raise InvalidArgument("FIELD_INVALID", "device_id differs from the token's device", "设备标识不一致",
                                  {"field": "device_id"})
        self.open_limiter.check(f"{req.sitting_id}/{req.candidate_id}")
        status = await self.exam.candidate(req.sitting_id, req.candidate_id)
        sitting = await self.exam.sitting(req.sitting_id)
        snap = status.candidate
        if snap.state in (common_pb2.CANDIDATE_STATE_UNSPECIFIED, common_pb2.CANDIDATE_STATE_REGISTERED):
            raise FailedPrecondition("WRONG_STATE", "log in before recording", "请先完成人脸登录",
                                     {"state": common_pb2.CandidateState.Name(snap.state)})
        if caller.role == Role.PHONE and status.bound_phone_device_id != caller.device_id:
            raise Unauthenticated("DEVICE_REPLACED", "this phone is no longer the bound evidence phone",
                                  "该手机已不是绑定的监控手机")
        now = self.clock()
        deadline = from_ts(status.timeline.upload_deadline)
        self._window(deadline, now)
        device_kind = common_pb2.DEVICE_KIND_PHONE if caller.role == Role.PHONE else common_pb2.DEVICE_KIND_DESKTOP
        upload = UploadRow(req.sitting_id, req.candidate_id, snap.attempt_number or 1, snap.room_id, deadline,
                           required_kinds(sitting.policy), now, None, None)
        start = from_ts(req.client_start_time) if req.HasField("client_start_time") else None
        nominal_ms = int(req.nominal_segment_duration.ToTimedelta() / timedelta(milliseconds=1))
        stream_id = str(uuid.uuid4())
        row = StreamRow(stream_id, req.sitting_id, req.candidate_id, upload.attempt_number, req.kind,
                        req.format.SerializeToString(), device_kind, caller.device_id, req.client_stream_key,
                        pb.STREAM_STATE_OPEN, now, start, nominal_ms, None, None, deadline, now, 0, 0, 0,
                        chain_seed(stream_id), False, None, None, None, None, None, None, [], [])
        async with self.tx() as t:
            await store.ensure_upload(t.conn, upload)
            created = await store.insert_stream(t.conn, row)
            if created is None:
                found = await store.stream_by_key(t.conn, req.sitting_id, req.candidate_id, upload.attempt_number,
                                                  req.client_stream_key)
                assert found is not None
                if found.device_id != caller.device_id or found.kind != req.kind:
                    raise access.not_your_stream()
                stream, reopened = found, True
            else:
                stream, reopened = created, False
                t.emit(topics.MEDIA_STREAMS.name, stream.candidate_id,
                       events.stream_event(stream, media_pb2.MEDIA_STREAM_EVENT_KIND_STREAM_OPENED, now))
                if caller.role == Role.PHONE:
                    await self._replace_other_phones(t, stream, now)
            committed = await self._committed(t.conn, stream)
        metrics.STREAMS_OPENED.labels(_kind(req.kind), "reopened" if reopened else "new").inc()
        return pb.OpenStreamResponse(stream=events.stream_info(stream), limits=self._limits_pb(req.kind),
                                     reopened=reopened, committed=committed)

    async def _replace_other_phones(self, t: Tx, stream: StreamRow, now: datetime) -> None:
        """A phone re-bound after a restart opens new streams; open streams of the replaced phone can
        no longer be written (its token is refused) and are closed REPLACED, not counted as missing."""
        for other in await store.streams_of(t.conn, stream.sitting_id, stream.candidate_id, stream.attempt_number):
            if (other.kind == stream.kind and other.device_id != stream.device_id
                    and other.state == pb.STREAM_STATE_OPEN):
                locked = await store.get_stream(t.conn, other.stream_id, lock=True)
                assert locked is not None
                await store.update_stream(t.conn, locked, state=pb.STREAM_STATE_VERIFICATION_FAILED, closed_at=now,
                                          close_reason=pb.CLOSE_REASON_REPLACED, closed_by="media-ingest",
                                          problems=[*locked.problems, "DEVICE_REPLACED"])
                t.emit(topics.MEDIA_STREAMS.name, locked.candidate_id, events.stream_event(
                    locked, media_pb2.MEDIA_STREAM_EVENT_KIND_STREAM_VERIFICATION_FAILED, now))

    def _limits_pb(self, kind: int) -> pb.UploadLimits:
        lim = self.limits
        out = pb.UploadLimits(max_chunk_bytes=lim.max_chunk_bytes, max_segment_bytes=lim.max_segment_bytes,
                              max_stream_bytes=lim.max_stream_bytes, max_inflight_chunks=lim.max_inflight_chunks,
                              max_segments=lim.max_segments)
        seconds = self.settings.segment_seconds(kind)
        if seconds is not None:
            out.segment_duration.FromTimedelta(timedelta(seconds=seconds))
        still = self.settings.still_seconds(kind)
        if still is not None:  # unset still_interval: the kind takes no stills
            out.still_interval.FromTimedelta(timedelta(seconds=still))
            out.still_max_bytes = self.settings.still_max_bytes
            out.still_max_side = self.settings.still_max_side
            out.max_stills_per_call = self.settings.max_stills_per_call
        return out

    async def _committed(self, conn: Any, s: StreamRow) -> pb.CommittedOffset:
        beyond = await store.segments(conn, s.stream_id, from_index=s.contiguous_segments)
        return pb.CommittedOffset(
            stream_id=s.stream_id, state=s.state, contiguous_segments=s.contiguous_segments,
            bytes_committed=s.bytes_committed,
            segments=[pb.SegmentProgress(segment_index=g.segment_index, committed_bytes=g.committed_bytes,
                                         complete=g.sealed) for g in beyond])

    # --- chunks --------------------------------------------------------------------------------------

    async def writable(self, claims: Claims | None, stream_id: str) -> StreamRow:
        """The stream, if the caller is its owning device (the UploadChunks header check)."""
        self._check_ready()
        caller = require_role(claims, Role.CANDIDATE, Role.PHONE)
        async with self.pool.connection() as conn:
            s = await store.get_stream(conn, stream_id)
        if s is None:
            raise stream_not_found(stream_id)
        access.owns(caller, s.sitting_id, s.candidate_id, s.kind, s.device_id)
        if s.state != pb.STREAM_STATE_OPEN:
            raise stream_closed(s)
        return s

    async def ready_frame(self, s: StreamRow) -> pb.UploadReady:
        async with self.pool.connection() as conn:
            committed = await self._committed(conn, s)
        if s.bytes_committed:
            metrics.RESUMES.labels(_kind(s.kind)).inc()
        return pb.UploadReady(stream=events.stream_info(s), limits=self._limits_pb(s.kind), committed=committed)

    async def append(self, claims: Claims | None, mc: pb.MediaChunk,
                     owner: StreamRow | None = None) -> tuple[pb.ChunkAck, pb.SegmentAck | None]:
        """Apply one chunk; returns once its bytes are durable and recorded."""
        started = time.perf_counter()
        try:
            result = await self._append(claims, mc, owner)
        except DomainError as exc:
            metrics.CHUNKS.labels(exc.reason).inc()
            raise
        metrics.CHUNK_SECONDS.observe(time.perf_counter() - started)
        metrics.CHUNKS.labels("DUPLICATE" if result[0].duplicate else "OK").inc()
        return result

    async def _append(self, claims: Claims | None, mc: pb.MediaChunk,
                      owner: StreamRow | None) -> tuple[pb.ChunkAck, pb.SegmentAck | None]:
        if not mc.stream_id:
            raise InvalidArgument("FIELD_REQUIRED", "chunk.stream_id is required", "缺少录像流标识",
                                  {"field": "chunk.stream_id"})
        caller: Claims | None = None
        if owner is None:  # AppendChunk: the ownership check runs on the row locked below (one read, not two)
            self._check_ready()
            caller = require_role(claims, Role.CANDIDATE, Role.PHONE)
        elif mc.stream_id != owner.stream_id:
            raise InvalidArgument("FIELD_INVALID", "chunk.stream_id differs from the header's stream",
                                  "数据块不属于本录像流", {"field": "chunk.stream_id"})
        seal = mc.seal if mc.HasField("seal") else None
        chunk = Chunk(mc.segment_index, mc.offset, mc.data, mc.sha256,
                      seal_size=seal.size_bytes if seal is not None else None,
                      seal_sha256=seal.sha256 if seal is not None else None)
        check_chunk(chunk, self.limits, 0)
        async with self.tx() as t:
            s = await store.get_stream(t.conn, mc.stream_id, lock=True)
            if s is None:
                raise stream_not_found(mc.stream_id)
            if owner is None:
                assert caller is not None
                access.owns(caller, s.sitting_id, s.candidate_id, s.kind, s.device_id)
            if s.state != pb.STREAM_STATE_OPEN:
                raise stream_closed(s)
            now = self.clock()
            late = self._window(s.upload_deadline, now)
            g = await store.get_segment(t.conn, s.stream_id, mc.segment_index)
            key = g.object_key if g else self._object_key(s, mc.segment_index)
            state = SegmentState(mc.segment_index) if g is None else SegmentState(
                g.segment_index, g.committed_bytes, g.sealed, g.size_bytes, g.sha256)
            plan = plan_chunk(state, chunk)
            if plan.overlap:
                stored = await self._io(self.objects.read, key, plan.overlap_start, len(plan.overlap))
                check_overlap(plan, stored, mc.segment_index)
            appended = len(plan.append)
            if appended:
                if s.bytes_committed + appended > self.limits.max_stream_bytes:
                    raise ResourceExhausted("STREAM_TOO_LARGE", f"a stream holds at most {self.limits.max_stream_bytes}"
                                            " bytes", "录像数据超过上限",
                                            {"max_bytes": str(self.limits.max_stream_bytes)})
                await self._io(self.objects.write, key, plan.append_at, plan.append)
            committed = max(state.committed_bytes, plan.append_at + appended)
            if g is None:
                g = SegmentRow(s.stream_id, mc.segment_index, key, committed, False, None, None, None, None, None,
                               None, None, now, None, late)
                await store.insert_segment(t.conn, g)
            elif appended:
                await store.update_segment(t.conn, g, committed_bytes=committed)
            segment_ack = None
            changes: dict[str, Any] = {}
            if plan.seal:
                assert seal is not None
                segment_ack = await self._seal(t, s, g, seal, now, late, changes)
            elif g.sealed and seal is not None:
                segment_ack = self._segment_ack(g, duplicate=True)
            if appended or plan.seal:
                changes.update(bytes_committed=s.bytes_committed + appended, last_activity_at=now)
                if late and not s.late:
                    changes["late"] = True
                await store.update_stream(t.conn, s, **changes)
                if changes.get("late"):
                    t.emit(topics.MEDIA_STREAMS.name, s.candidate_id,
                           events.stream_event(s, media_pb2.MEDIA_STREAM_EVENT_KIND_LATE_UPLOAD, now))
        if appended:
            metrics.BYTES.labels(_kind(s.kind)).inc(appended)
        ack = pb.ChunkAck(segment_index=mc.segment_index, offset=mc.offset, length=len(mc.data),
                          committed_bytes=committed, duplicate=plan.duplicate)
        return ack, segment_ack

    def _object_key(self, s: StreamRow, index: int) -> str:
        return f"raw/{s.sitting_id}/{s.candidate_id}/{s.attempt_number}/{s.stream_id}/{index:06d}.seg"

    async def _seal(self, t: Tx, s: StreamRow, g: SegmentRow, seal: pb.SegmentSeal, now: datetime, late: bool,
                    changes: dict[str, Any]) -> pb.SegmentAck:
        if seal.size_bytes != g.committed_bytes:
            raise InvalidArgument("SEGMENT_SIZE_MISMATCH", f"the seal says {seal.size_bytes} bytes but "
                                  f"{g.committed_bytes} are committed", "分段大小与封存信息不符",
                                  {"segment_index": str(g.segment_index), "committed_offset": str(g.committed_bytes)})
        try:
            digest, uri = await self._io(self.objects.seal, g.object_key, seal.size_bytes, seal.sha256)
        except SealMismatch as exc:
            metrics.VERIFICATION_FAILURES.labels("segment_hash").inc()
            raise InvalidArgument("SEGMENT_HASH_MISMATCH", "the segment's SHA-256 does not match its bytes",
                                  "分段校验失败", {"segment_index": str(g.segment_index)}) from exc
        duration = seal.media_duration.ToTimedelta() / timedelta(milliseconds=1) if seal.HasField(
            "media_duration") else None
        await store.update_segment(
            t.conn, g, sealed=True, size_bytes=seal.size_bytes, sha256=digest, object_uri=uri, committed_at=now,
            client_start_time=from_ts(seal.client_start_time) if seal.HasField("client_start_time") else None,
            client_end_time=from_ts(seal.client_end_time) if seal.HasField("client_end_time") else None,
            media_duration_ms=int(duration) if duration is not None else None, late=late or g.late)
        changes["segments_complete"] = s.segments_complete + 1
        if g.segment_index == s.contiguous_segments:
            head = chain_next(s.chain_head, g.segment_index, seal.size_bytes, digest)
            hashes = [(g.segment_index, head)]
            n = g.segment_index + 1
            if s.segments_complete > s.contiguous_segments:  # sealed segments wait beyond a gap
                for later in await store.segments(t.conn, s.stream_id, from_index=n, sealed_only=True):
                    if later.segment_index != n:
                        break
                    assert later.size_bytes is not None and later.sha256 is not None
                    head = chain_next(head, n, later.size_bytes, later.sha256)
                    hashes.append((n, head))
                    n += 1
            await store.set_chain_hashes(t.conn, s.stream_id, hashes)
            g.chain_hash = hashes[0][1]
            changes.update(contiguous_segments=n, chain_head=head)
        t.emit(topics.MEDIA_SEGMENTS_RECEIVED.name, s.candidate_id, events.segment_received(s, g))
        metrics.SEGMENTS.labels(_kind(s.kind)).inc()
        return self._segment_ack(g, duplicate=False)

    @staticmethod
    def _segment_ack(g: SegmentRow, duplicate: bool) -> pb.SegmentAck:
        out = pb.SegmentAck(segment_index=g.segment_index, size_bytes=g.size_bytes or 0, sha256=g.sha256 or b"",
                            late=g.late, duplicate=duplicate)
        if g.committed_at:
            out.committed_at.FromDatetime(g.committed_at)
        return out

    async def upload(self, claims: Claims | None,
                     requests: AsyncIterator[pb.UploadChunksRequest]) -> AsyncIterator[pb.UploadChunksResponse]:
        """The bidirectional UploadChunks protocol (see media_ingest.proto)."""
        first = await anext(aiter(requests), None)
        if first is None or not first.HasField("header"):
            raise InvalidArgument("HEADER_REQUIRED", "the first message of UploadChunks must be the header",
                                  "上传请求缺少头部信息")
        owner = await self.writable(claims, first.header.stream_id)
        yield pb.UploadChunksResponse(ready=await self.ready_frame(owner))
        async for req in requests:
            if not req.HasField("chunk"):
                raise InvalidArgument("FIELD_INVALID", "only the first message may be a header",
                                      "上传请求格式错误", {"field": "header"})
            chunk_ack, segment_ack = await self.append(claims, req.chunk, owner)
            yield pb.UploadChunksResponse(chunk_ack=chunk_ack)
            if segment_ack is not None:
                yield pb.UploadChunksResponse(segment_ack=segment_ack)

    # --- reads ---------------------------------------------------------------------------------------

    async def _readable(self, conn: Any, claims: Claims | None, stream_id: str) -> StreamRow:
        s = await store.get_stream(conn, stream_id)
        if s is None:
            require_role(claims, Role.CANDIDATE, Role.PHONE, *access.OBSERVERS)
            raise stream_not_found(stream_id)
        upload = await store.get_upload(conn, s.sitting_id, s.candidate_id, s.attempt_number)
        access.may_observe(claims, s.sitting_id, s.candidate_id, upload.room_id if upload else "", s.kind,
                           s.device_id)
        return s

    async def committed_offset(self, claims: Claims | None, stream_id: str) -> pb.CommittedOffset:
        async with self.pool.connection() as conn:
            s = await self._readable(conn, claims, stream_id)
            return await self._committed(conn, s)

    async def manifest(self, claims: Claims | None, req: pb.GetManifestRequest) -> pb.Manifest:
        page = min(req.page_size or DEFAULT_PAGE, MAX_PAGE)
        try:
            start = int(req.page_token) if req.page_token else 0
        except ValueError as exc:
            raise InvalidArgument("FIELD_INVALID", "page_token is not one this server issued", "分页标记无效",
                                  {"field": "page_token"}) from exc
        async with self.pool.connection() as conn:
            s = await self._readable(conn, claims, req.stream_id)
            if claims is not None and claims.role in (Role.CANDIDATE, Role.PHONE):
                raise PermissionDenied("ROLE_NOT_ALLOWED", "manifests are for staff, proctors and services",
                                       "无权查看录像清单")
            rows = await store.segments(conn, s.stream_id, from_index=start, limit=page + 1, sealed_only=True)
        out = pb.Manifest(stream=events.stream_info(s), chain_head=s.chain_head, chain_spec="proctor.media.chain.v1",
                          segments=[events.manifest_segment(g) for g in rows[:page]])
        if len(rows) > page:
            out.next_page_token = str(rows[page].segment_index)
        out.missing_segments.extend(s.missing_segments or [])
        if s.state == pb.STREAM_STATE_OPEN and s.segments_complete > s.contiguous_segments:
            out.missing_segments.append(s.contiguous_segments)  # the first gap, while still uploading
        return out

    # --- close ---------------------------------------------------------------------------------------

    async def close(self, claims: Claims | None, req: pb.CloseStreamRequest) -> pb.CloseStreamResponse:
        self._check_ready()
        caller = require_role(claims, Role.CANDIDATE, Role.PHONE, Role.STAFF)
        if req.segment_count > self.limits.max_segments:  # never list billions of missing segments
            raise InvalidArgument("FIELD_INVALID", f"segment_count must be at most {self.limits.max_segments}",
                                  "分段数量超出上限", {"field": "segment_count",
                                                       "max_segments": str(self.limits.max_segments)})
        now = self.clock()
        async with self.tx() as t:
            s = await store.get_stream(t.conn, req.stream_id, lock=True)
            if s is None:
                raise stream_not_found(req.stream_id)
            if caller.role != Role.STAFF:
                access.owns(caller, s.sitting_id, s.candidate_id, s.kind, s.device_id)
            if req.accept_missing and caller.role == Role.STAFF and not req.note.strip():
                raise InvalidArgument("FIELD_REQUIRED", "staff closing a stream as incomplete must say why (note)",
                                      "请填写原因", {"field": "note"})
            if s.state != pb.STREAM_STATE_OPEN:
                same = (s.close_segment_count == req.segment_count and s.close_total_bytes == req.total_bytes
                        and (s.close_chain_head or b"") == req.chain_head)
                if not same:
                    raise FailedPrecondition("STREAM_ALREADY_CLOSED", "this recording was closed earlier with other "
                                             "totals", "该录像流已结束上传",
                                             {"state": pb.StreamState.Name(s.state)})
                return pb.CloseStreamResponse(stream=events.stream_info(s), verification=_verification(s))
            sealed = {g.segment_index: g for g in await store.segments(t.conn, s.stream_id, sealed_only=True)}
            missing = [i for i in range(req.segment_count) if i not in sealed]
            if missing and not req.accept_missing:
                raise FailedPrecondition("STREAM_INCOMPLETE", f"{len(missing)} segment(s) are not uploaded yet",
                                         "仍有录像分段未上传完成，请继续上传", {"missing_segments": ranges(missing)})
            problems: list[str] = []
            extra = sorted(i for i in sealed if i >= req.segment_count)
            if extra:
                problems.append("EXTRA_SEGMENTS")
            if missing:
                problems.append("MISSING_SEGMENTS")
            total = sum(g.size_bytes or 0 for i, g in sealed.items() if i < req.segment_count)
            sizes_match = not missing and total == req.total_bytes
            if not sizes_match and not missing:
                problems.append("SIZE_MISMATCH")
            expected = (chain_seed(s.stream_id) if req.segment_count == 0
                        else sealed[req.segment_count - 1].chain_hash if not missing else None)
            chain_matches = expected is not None and expected == req.chain_head
            if not chain_matches and not missing:
                problems.append("CHAIN_MISMATCH")
            verified = not problems
            state = pb.STREAM_STATE_VERIFIED if verified else pb.STREAM_STATE_VERIFICATION_FAILED
            await store.update_stream(
                t.conn, s, state=state, closed_at=now, verified_at=now if verified else None,
                close_reason=req.reason or pb.CLOSE_REASON_COMPLETED, close_segment_count=req.segment_count,
                close_total_bytes=req.total_bytes, close_chain_head=req.chain_head, close_note=req.note[:2000],
                closed_by=caller.sub, missing_segments=missing, problems=problems)
            kind = (media_pb2.MEDIA_STREAM_EVENT_KIND_STREAM_VERIFIED if verified
                    else media_pb2.MEDIA_STREAM_EVENT_KIND_STREAM_VERIFICATION_FAILED)
            t.emit(topics.MEDIA_STREAMS.name, s.candidate_id, events.stream_event(s, kind, now, missing=missing))
            upload = await store.get_upload(t.conn, s.sitting_id, s.candidate_id, s.attempt_number, lock=True)
            assert upload is not None
            if verified and s.kind == common_pb2.STREAM_KIND_PHONE_ROOM_SCAN:
                t.emit(topics.MEDIA_STREAMS.name, s.candidate_id,
                       events.stream_event(s, media_pb2.MEDIA_STREAM_EVENT_KIND_ROOM_SCAN_RECORDED, now))
            if not verified:
                metrics.VERIFICATION_FAILURES.labels("stream").inc()
                t.emit(topics.INCIDENTS.name, s.candidate_id, events.incident(
                    sitting_id=s.sitting_id, candidate_id=s.candidate_id, room_id=upload.room_id,
                    attempt=s.attempt_number, kind=common_pb2.INCIDENT_KIND_MEDIA_INVALID,
                    severity=common_pb2.SEVERITY_MEDIUM, start=s.opened_at, now=now, anchor=s.stream_id,
                    en=f"{common_pb2.StreamKind.Name(s.kind)} recording failed verification: {', '.join(problems)}",
                    zh=f"录像校验未通过：{', '.join(problems)}",
                    attributes={"stream_id": s.stream_id, "problems": ",".join(problems),
                                "missing_segments": ranges(missing)}))
            if caller.role == Role.STAFF:
                t.audit(events.audit(access.actor(caller), "media.stream.close_incomplete" if missing
                                     else "media.stream.close", s, req.note, now,
                                     {"segment_count": str(req.segment_count), "missing": ranges(missing)}),
                        key=s.candidate_id)
            await self._maybe_complete(t, upload, now)
        metrics.STREAMS_CLOSED.labels(_kind(s.kind), pb.StreamState.Name(state)).inc()
        return pb.CloseStreamResponse(stream=events.stream_info(s), verification=_verification(s))

    async def _maybe_complete(self, t: Tx, upload: UploadRow, now: datetime) -> None:
        if upload.complete_at is not None:
            return
        streams = await store.streams_of(t.conn, upload.sitting_id, upload.candidate_id, upload.attempt_number)
        progress = self._progress(upload, streams)
        if progress.complete:
            await store.mark_upload(t.conn, upload, "complete_at", now)
            t.emit(topics.MEDIA_STREAMS.name, upload.candidate_id, events.candidate_event(
                upload, _counted(streams), progress, media_pb2.MEDIA_STREAM_EVENT_KIND_CANDIDATE_UPLOAD_COMPLETE, now))
            metrics.CANDIDATES_COMPLETE.inc()

    def _progress(self, upload: UploadRow, streams: list[StreamRow]) -> common_pb2.UploadProgress:
        counted = _counted(streams)
        verified_kinds = {s.kind for s in counted if s.state == pb.STREAM_STATE_VERIFIED}
        opened_kinds = {s.kind for s in counted}
        pending = [s for s in counted if s.state not in events.FINAL_STATES]
        failed = [s for s in counted if s.state == pb.STREAM_STATE_VERIFICATION_FAILED]
        required = list(upload.required_kinds)
        out = common_pb2.UploadProgress(
            streams_total=len(required), streams_verified=sum(1 for k in required if k in verified_kinds),
            bytes_committed=sum(s.bytes_committed for s in streams), late=any(s.late for s in streams),
            missing_kinds=[k for k in required if k not in opened_kinds])
        out.upload_deadline.FromDatetime(upload.upload_deadline)
        out.complete = (upload.complete_at is not None) or (
            all(k in verified_kinds for k in required) and not pending and not failed)
        if pending:
            out.problems.append(common_pb2.LocalizedText(
                en=f"{len(pending)} recording(s) still uploading; keep the app open until it says complete",
                zh=f"还有 {len(pending)} 段录像正在上传，请保持程序打开直到显示上传成功"))
        if out.missing_kinds:
            out.problems.append(common_pb2.LocalizedText(
                en="some required recordings have not started uploading", zh="部分必需的录像尚未开始上传"))
        if failed:
            out.problems.append(common_pb2.LocalizedText(
                en="a recording failed verification; the exam staff will contact you",
                zh="有录像未通过校验，考务人员将与您联系"))
        return out

    async def upload_status(self, claims: Claims | None, req: pb.GetUploadStatusRequest) -> pb.CandidateUploadStatus:
        if not req.sitting_id or not req.candidate_id:
            raise InvalidArgument("FIELD_REQUIRED", "sitting_id and candidate_id are required", "请求缺少必填字段",
                                  {"field": "sitting_id" if not req.sitting_id else "candidate_id"})
        async with self.pool.connection() as conn:
            upload = await store.get_upload(conn, req.sitting_id, req.candidate_id, req.attempt_number)
            if upload is None:
                require_role(claims, Role.CANDIDATE, Role.PHONE, *access.OBSERVERS)
                if claims is not None and claims.role in (Role.CANDIDATE, Role.PHONE):
                    access.may_observe(claims, req.sitting_id, req.candidate_id, "")
                    return pb.CandidateUploadStatus(sitting_id=req.sitting_id, candidate_id=req.candidate_id)
                raise NotFound("UPLOAD_NOT_FOUND", "this candidate has not started uploading", "该考生尚未开始上传录像")
            access.may_observe(claims, upload.sitting_id, upload.candidate_id, upload.room_id)
            streams = await store.streams_of(conn, upload.sitting_id, upload.candidate_id, upload.attempt_number)
        out = pb.CandidateUploadStatus(sitting_id=upload.sitting_id, candidate_id=upload.candidate_id,
                                       attempt_number=upload.attempt_number,
                                       streams=[events.stream_info(s) for s in streams],
                                       progress=self._progress(upload, streams))
        if upload.complete_at:
            out.complete_at.FromDatetime(upload.complete_at)
        return out

    # --- deadline sweep ------------------------------------------------------------------------------

    async def sweep_deadlines(self) -> int:
        """Announce UPLOAD_DEADLINE_MISSED (and an UPLOAD_INCOMPLETE incident) for uploads still
        incomplete at their deadline. Safe with several replicas (SKIP LOCKED)."""
        now = self.clock()
        async with self.tx() as t:
            due = await store.overdue_uploads(t.conn, now)
            for upload in due:
                streams = await store.streams_of(t.conn, upload.sitting_id, upload.candidate_id,
                                                 upload.attempt_number)
                progress = self._progress(upload, streams)
                if progress.complete:
                    await store.mark_upload(t.conn, upload, "complete_at", now)
                    continue
                await store.mark_upload(t.conn, upload, "deadline_missed_at", now)
                t.emit(topics.MEDIA_STREAMS.name, upload.candidate_id, events.candidate_event(
                    upload, _counted(streams), progress, media_pb2.MEDIA_STREAM_EVENT_KIND_UPLOAD_DEADLINE_MISSED,
                    now))
                missing = [common_pb2.StreamKind.Name(k) for k in progress.missing_kinds]
                t.emit(topics.INCIDENTS.name, upload.candidate_id, events.incident(
                    sitting_id=upload.sitting_id, candidate_id=upload.candidate_id, room_id=upload.room_id,
                    attempt=upload.attempt_number, kind=common_pb2.INCIDENT_KIND_UPLOAD_INCOMPLETE,
                    severity=common_pb2.SEVERITY_HIGH, start=upload.upload_deadline, now=now, anchor="deadline",
                    en=f"recordings incomplete at the upload deadline ({progress.streams_verified}/"
                       f"{progress.streams_total} verified)",
                    zh=f"上传截止时录像不完整（已校验 {progress.streams_verified}/{progress.streams_total}）",
                    attributes={"missing_kinds": ",".join(missing),
                                "verified": f"{progress.streams_verified}/{progress.streams_total}"}))
        return len(due)

    async def run_sweeper(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sweep_deadlines()
            except Exception:
                log.exception("deadline sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.sweep_interval_s)


def _counted(streams: list[StreamRow]) -> list[StreamRow]:
    """Streams that count towards completeness (not those of a replaced phone)."""
    return [s for s in streams if s.close_reason != pb.CLOSE_REASON_REPLACED]


def _verification(s: StreamRow) -> pb.StreamVerification:
    return pb.StreamVerification(
        verified=s.state == pb.STREAM_STATE_VERIFIED,
        sizes_match="SIZE_MISMATCH" not in s.problems and "MISSING_SEGMENTS" not in s.problems,
        chain_matches=not ({"CHAIN_MISMATCH", "MISSING_SEGMENTS"} & set(s.problems)),
        missing_segments=s.missing_segments, problems=s.problems)


def _kind(kind: int) -> str:
    return metrics.stream_kind(kind)


"""The logic layer of exam-session: transactions around the domain rules, events via the outbox.

The gRPC servicer and the Kafka handlers are thin transports over this class. Every mutation
locks the candidate row, applies a rule from ``domain``, writes the new state and queues the
events announcing it in the same transaction.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from exam_session import access, convert, domain, store
from exam_session import events as ev
from exam_session.answer_batch import AnswerBatcher, Op, Seen, SeenCache
from exam_session.config import Settings
from exam_session.domain import Candidate, Sitting, State
from exam_session.metrics import ANSWER_PATHS, TRANSITIONS
from proctor.common.v1 import common_pb2
from proctor.events.v1 import incident_pb2, messaging_pb2, session_pb2, telemetry_pb2
from proctor.exam.v1 import exam_session_pb2 as pb
from proctor_runtime import outbox, topics
from proctor_runtime.errors import Aborted, AlreadyExists, DomainError, FailedPrecondition, InvalidArgument, NotFound
from proctor_runtime.events import meta, ts
from proctor_runtime.kafka import EventProducer
from proctor_runtime.outbox import Tx
from proctor_runtime.ratelimit import RateLimiter
from proctor_runtime.tokens import Claims, Role, TokenSigner, TokenVerifier

log = logging.getLogger(__name__)
M = TypeVar("M", pb.SaveAnswerResponse, pb.AdvanceResponse)

BIND_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
QR_PREFIX = "proctor-bind:v1:"


def utcnow() -> datetime:
    return datetime.now(UTC)


class ExamSessionLogic:
    def __init__(self, settings: Settings, pool: AsyncConnectionPool, producer: EventProducer,
                 relay: outbox.OutboxRelay, signer: TokenSigner, verifier: TokenVerifier,
                 batch_pool: AsyncConnectionPool, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.pool = pool
        self.seen = SeenCache(settings.answer_memory_entries)
        self.batcher = AnswerBatcher(batch_pool, settings.answer_batch_max, settings.answer_batch_connections)
        self.producer = producer
        self.relay = relay
        self.signer = signer
        self.verifier = verifier
        self.clock = clock
        self._sittings: dict[str, tuple[pb.Sitting, Sitting]] = {}
        self.bind_limiter = RateLimiter(per_minute=settings.bind_attempts_per_minute)
        self.help_limiter = RateLimiter(per_minute=settings.help_messages_per_minute)

    # --- plumbing ------------------------------------------------------------------------------------
    def tx(self) -> AbstractAsyncContextManager[Tx]:
        """One transaction; the events it emits go to the outbox in the same commit."""
        return outbox.transaction(self.pool, self.relay)

    async def sitting(self, sitting_id: str) -> tuple[pb.Sitting, Sitting]:
        cached = self._sittings.get(sitting_id)
        if cached is not None:
            return cached
        async with self.pool.connection() as conn:
            found = await store.load_sitting_spec(conn, sitting_id)
        if found is None:
            raise NotFound("SITTING_NOT_FOUND", f"no sitting {sitting_id!r}", "考试场次不存在",
                           {"sitting_id": sitting_id})
        spec = pb.Sitting.FromString(found[0])
        spec.created_at.CopyFrom(ts(found[1]))
        entry = (spec, convert.sitting_from_proto(spec))
        self._sittings[sitting_id] = entry
        return entry

    def _transition(self, t: Tx, c: Candidate, s: Sitting, to: State, now: datetime,
                    actor: common_pb2.Actor, reason: str, version: int,
                    kind: int = session_pb2.SESSION_EVENT_KIND_TRANSITION, note: str = "",
                    attempt_number: int | None = None) -> session_pb2.SessionEvent:
        event = ev.session_event(c, s, now, to_state=to, version=version, actor=actor, reason=reason,
                                 kind=kind, note=note, attempt_number=attempt_number)
        t.emit(topics.SESSION_EVENTS.name, c.candidate_id, event)
        TRANSITIONS.labels(c.state.name, to.name).inc()
        return event

    async def _move(self, t: Tx, c: Candidate, s: Sitting, to: State, now: datetime,
                    actor: common_pb2.Actor, reason: str, note: str = "", **changes: object) -> Candidate:
        version = await store.record_transition(t.conn, c, to, now, actor.kind, actor.id, reason, note,
                                                **changes)
        self._transition(t, c, s, to, now, actor, reason, version, note=note,
                         attempt_number=changes.get("attempt_number"))  # type: ignore[arg-type]
        return _updated(c, to, now, version, changes)

    def status(self, c: Candidate, s: Sitting, now: datetime) -> pb.CandidateStatus:
        return convert.status(c, s, now, domain.gates(s, c, now))

    # --- sittings and candidates (staff) ------------------------------------------------------------
    async def create_sitting(self, claims: Claims | None, spec: pb.Sitting) -> pb.Sitting:
        caller = access.require_staff(claims)
        sitting = convert.sitting_from_proto(spec)
        sitting.validate()
        stored = convert.normalised_spec(spec, sitting)
        raw = stored.SerializeToString(deterministic=True)
        t = sitting.timeline
        async with self.tx() as tx:
            created = await store.insert_sitting(
                tx.conn, sitting_id=sitting.sitting_id, name=sitting.name, kind=int(sitting.kind),
                time_zone=sitting.time_zone, times=[t.login_opens, t.waiting_room_opens, t.start,
                                                    t.last_entry, t.end, t.upload_deadline],
                spec=raw, created_by=caller.sub)
        existing, _ = await self.sitting(sitting.sitting_id)
        if not created:
            compare = pb.Sitting()
            compare.CopyFrom(existing)
            compare.ClearField("created_at")
            if compare.SerializeToString(deterministic=True) != raw:
                raise AlreadyExists("SITTING_EXISTS", f"sitting {sitting.sitting_id!r} exists with "
                                    "another spec", "考试场次已存在且配置不同")
        out = pb.Sitting()
        out.CopyFrom(existing)
        out.server_time.CopyFrom(ts(self.clock()))
        return out

    async def get_sitting(self, claims: Claims | None, sitting_id: str) -> pb.Sitting:
        spec, _ = await self.sitting(sitting_id)
        out = pb.Sitting()
        if claims is not None and claims.role in (Role.CANDIDATE, Role.PHONE):
            if claims.sitting_id != sitting_id:
                raise access.not_yours()
            out.CopyFrom(convert.candidate_view(spec))
        else:
            access.room_scope(claims, sitting_id, [])
            out.CopyFrom(spec)
        out.server_time.CopyFrom(ts(self.clock()))
        return out

    async def list_sittings(self, claims: Claims | None, req: pb.ListSittingsRequest,
                            ) -> pb.ListSittingsResponse:
        access.require_observer(claims)
        limit = min(req.page_size or 100, 500)
        rng = req.active_between
        start = rng.start_time.ToDatetime(UTC) if rng.HasField("start_time") else None
        end = rng.end_time.ToDatetime(UTC) if rng.HasField("end_time") else None
        async with self.pool.connection() as conn:
            rows = await store.list_sitting_specs(conn, limit + 1, req.page_token, start, end)
        out = pb.ListSittingsResponse()
        for raw, created in rows[:limit]:
            spec = convert.candidate_view(pb.Sitting.FromString(raw))
            spec.created_at.CopyFrom(ts(created))
            if claims is not None and claims.role in (Role.PROCTOR, Role.CHIEF_PROCTOR) \
                    and claims.sitting_id and claims.sitting_id != spec.sitting_id:
                continue
            out.sittings.append(spec)
        if len(rows) > limit:
            out.next_page_token = out.sittings[-1].sitting_id if out.sittings else ""
        return out

    async def import_candidates(self, claims: Claims | None, req: pb.ImportCandidatesRequest,
                                ) -> pb.ImportCandidatesResponse:
        access.require_staff(claims)
        if len(req.rows) > self.settings.max_import_batch:
            limit = self.settings.max_import_batch
            raise InvalidArgument("BATCH_TOO_LARGE", f"at most {limit} rows per call", "单次导入行数过多",
                                  {"max": str(limit)})
        out = pb.ImportCandidatesResponse()
        by_sitting: dict[str, list[tuple[pb.CandidateRow, store.ImportRow]]] = {}
        seen: set[tuple[str, str]] = set()
        for row in req.rows:
            problem = await self._row_problem(row, seen)
            if problem:
                out.rejections.append(pb.RowRejection(
                    line=row.line, candidate_id=row.candidate_id, reason=problem[0],
                    message=common_pb2.LocalizedText(en=problem[1], zh=problem[2])))
                continue
            seen.add((row.sitting_id, row.candidate_id))
            by_sitting.setdefault(row.sitting_id, []).append((row, store.ImportRow(
                row.candidate_id.strip(), row.name.strip(), row.room_id.strip(),
                row.id_photo_ref.strip(), dict(row.extra))))
        out.rejected = len(out.rejections)
        if req.dry_run:
            out.created = sum(len(v) for v in by_sitting.values())
            return out
        now = self.clock()
        for sitting_id, rows in by_sitting.items():
            _, s = await self.sitting(sitting_id)
            async with self.tx() as t:
                outcome = await store.upsert_candidates(t.conn, sitting_id, [r for _, r in rows], now)
                for _, r in rows:
                    result = outcome[r.candidate_id]
                    if result != "unchanged":
                        t.emit(topics.SESSION_EVENTS.name, r.candidate_id, ev.registered_event(
                            sitting_id, r.candidate_id, r.display_name, r.room_id, s, now,
                            updated=result == "updated"))
            out.created += sum(1 for v in outcome.values() if v == "created")
            out.updated += sum(1 for v in outcome.values() if v == "updated")
            out.unchanged += sum(1 for v in outcome.values() if v == "unchanged")
        return out

    async def _row_problem(self, row: pb.CandidateRow, seen: set[tuple[str, str]],
                           ) -> tuple[str, str, str] | None:
        for name in ("candidate_id", "name", "sitting_id", "room_id"):
            if not getattr(row, name).strip():
                return "MISSING_FIELD", f"{name} is empty", f"缺少字段 {name}"
        if len(row.candidate_id) > 64 or not row.candidate_id.isprintable():
            return "FIELD_INVALID", "candidate_id must be printable and at most 64 characters", \
                "考生编号格式错误"
        if len(row.name) > 200 or len(row.room_id) > 64:
            return "FIELD_INVALID", "name or room_id too long", "姓名或考场编号过长"
        if (row.sitting_id, row.candidate_id) in seen:
            return "DUPLICATE_IN_BATCH", "the candidate appears twice in this import", "考生在导入文件中重复"
        try:
            await self.sitting(row.sitting_id)
        except NotFound:
            return "SITTING_NOT_FOUND", f"no sitting {row.sitting_id!r}", "考试场次不存在"
        return None

    async def list_rooms(self, claims: Claims | None, sitting_id: str) -> pb.ListRoomsResponse:
        rooms = access.room_scope(claims, sitting_id, [])
        await self.sitting(sitting_id)
        async with self.pool.connection() as conn:
            counts = await store.room_counts(conn, sitting_id)
        out = pb.ListRoomsResponse()
        for room, states in sorted(counts.items()):
            if rooms is not None and room not in rooms:
                continue
            out.rooms.append(pb.Room(
                sitting_id=sitting_id, room_id=room, candidate_count=sum(states.values()),
                state_counts=[pb.StateCount(state=k, count=v) for k, v in sorted(states.items())]))
        return out

    async def list_candidates(self, claims: Claims | None, req: pb.ListCandidatesRequest,
                              ) -> pb.ListCandidatesResponse:
        rooms = access.room_scope(claims, req.sitting_id, list(req.room_ids))
        _, s = await self.sitting(req.sitting_id)
        known = common_pb2.CandidateState.values()
        if any(state not in known for state in req.states):  # e.g. 2^31-1 overflows the smallint column
            raise InvalidArgument("FIELD_INVALID", "states holds a value that is no CandidateState",
                                  "考生状态筛选值无效", {"field": "states"})
        limit = min(req.page_size or 200, 2000)
        now = self.clock()
        async with self.pool.connection() as conn:
            rows = await store.list_candidates(conn, req.sitting_id, rooms, list(req.states),
                                               req.page_token, limit + 1)
            total = await store.count_candidates(conn, req.sitting_id, rooms, list(req.states))
        out = pb.ListCandidatesResponse(total_size=total)
        for row in rows[:limit]:
            snap = convert.snapshot(row.candidate, s, now)
            if req.only_offline and snap.desktop_online:
                continue
            out.candidates.append(snap)
        if len(rows) > limit:
            out.next_page_token = rows[limit - 1].candidate.candidate_id
        return out

    async def candidate_status(self, claims: Claims | None, req: pb.GetCandidateStateRequest,
                               ) -> pb.CandidateStatus:
        _, s = await self.sitting(req.sitting_id)
        async with self.pool.connection() as conn:
            row = await store.get_candidate(conn, req.sitting_id, req.candidate_id)
            access.observer_of(claims, row.candidate)
            out = self.status(row.candidate, s, self.clock())
            if req.include_history:
                for f, to, at, kind, actor_id, reason, attempt, _note in await store.history(
                        conn, req.sitting_id, req.candidate_id):
                    out.history.append(pb.StateTransition(
                        from_state=f, to_state=to, at=ts(at), reason=reason, attempt_number=attempt,
                        actor=common_pb2.Actor(kind=kind, id=actor_id)))
        return out

    # --- candidate flow --------------------------------------------------------------------------------
    @asynccontextmanager
    async def candidate(self, claims: Claims | None, sitting_id: str, candidate_id: str,
                        roles: tuple[Role, ...] = (Role.CANDIDATE,),
                        ) -> AsyncIterator[tuple[Tx, Sitting, store.CandidateRow, Claims]]:
        """Authorise, lock the candidate row and open a transaction."""
        checked = access.own_target(claims, sitting_id, candidate_id, roles)
        _, s = await self.sitting(sitting_id)
        async with self.tx() as t:
            row = await store.lock_candidate(t.conn, sitting_id, candidate_id)
            access.device_matches(checked, row.candidate)
            yield t, s, row, checked

    async def login(self, req: pb.LoginRequest) -> pb.LoginResponse:
        claims = self.verifier.verify(req.face_login_token)
        access.own_target(claims, req.sitting_id, req.candidate_id)
        if req.device.device_id and req.device.device_id != claims.device_id:
            raise access.not_yours()
        spec, s = await self.sitting(req.sitting_id)
        now = self.clock()
        actor = access.actor(claims)
        async with self.tx() as t:
            row = await store.lock_candidate(t.conn, req.sitting_id, req.candidate_id)
            c = row.candidate
            if c.desktop_device_id and c.desktop_device_id != claims.device_id:
                if claims.iat <= c.desktop_token_iat:
                    access.device_matches(claims, c)  # an older session: DEVICE_REPLACED
                t.emit(topics.AUDIT.name, c.candidate_id, ev.audit_event(
                    actor, "DESKTOP_DEVICE_REPLACED", c.sitting_id, c.candidate_id,
                    "a newer face-login session on another device", now,
                    attributes={"old_device": c.desktop_device_id}, device_id=claims.device_id))
            decision = domain.decide_login(s, c, now)
            device = {"desktop_device_id": claims.device_id, "desktop_token_iat": claims.iat,
                      "desktop_last_seen": now, "desktop_offline_since": None}
            if decision.new_attempt:
                attempt = c.attempt_number + 1
                c = await self._move(t, c, s, State.LOGGED_IN, now, actor, "FACE_LOGIN",
                                     attempt_number=attempt, current_index=0, attempt_ends_at=None,
                                     phone_device_id="", room_scanned=False, upload_complete=False,
                                     **device)
                if attempt > 1:
                    t.emit(topics.SESSION_EVENTS.name, c.candidate_id, ev.session_event(
                        c, s, now, to_state=c.state, version=c.state_version, actor=actor,
                        reason="MOCK_ATTEMPT", kind=session_pb2.SESSION_EVENT_KIND_ATTEMPT_STARTED))
            else:
                await store.update_candidate(t.conn, c, **device)
                c = _with(c, desktop_device_id=claims.device_id, desktop_token_iat=claims.iat,
                          desktop_last_seen=now)
        return pb.LoginResponse(status=self.status(c, s, now), sitting=convert.candidate_view(spec),
                                new_attempt=decision.new_attempt)

    async def issue_bind_code(self, claims: Claims | None, req: pb.IssueBindCodeRequest,
                              ) -> pb.IssueBindCodeResponse:
        now = self.clock()
        async with self.candidate(claims, req.sitting_id, req.candidate_id) as (t, s, row, _):
            c = row.candidate
            domain.check_bind(s, c, now)
            code = "".join(secrets.choice(BIND_ALPHABET) for _ in range(8))
            expires = min(now + s.policy.bind_code_validity, s.timeline.end)
            await store.insert_bind_code(t.conn, c, _code_hash(code), now, expires)
        ttl = max(1, int((expires - now).total_seconds()))
        qr, _ = self.signer.issue(sub=f"bind:{code}", role=Role.SERVICE, ttl_s=ttl, now=now.timestamp(),
                                  sitting_id=c.sitting_id, candidate_id=c.candidate_id,
                                  extra={"bind_code": code})
        return pb.IssueBindCodeResponse(bind_code=code, qr_payload=QR_PREFIX + qr, expires_at=ts(expires),
                                        rebind=bool(c.phone_device_id))

    async def bind_phone(self, req: pb.BindPhoneRequest, peer: str) -> pb.BindPhoneResponse:
        self.bind_limiter.check(peer)
        code = self._code_from(req)
        if req.device.kind != common_pb2.DEVICE_KIND_PHONE or not req.device.device_id:
            raise InvalidArgument("FIELD_INVALID", "device.kind must be PHONE with a device_id",
                                  "设备信息无效", {"field": "device"})
        now = self.clock()
        phone = req.device.device_id
        async with self.tx() as t:
            found = await store.find_bind_code(t.conn, _code_hash(code))
            if found is None:
                raise NotFound("BIND_CODE_INVALID", "this bind code is not valid", "绑定码无效")
            sitting_id, candidate_id, expires, used_at, used_by = found
            _, s = await self.sitting(sitting_id)
            row = await store.lock_candidate(t.conn, sitting_id, candidate_id)
            c = row.candidate
            retry = used_at is not None and used_by == phone and c.phone_device_id == phone
            if used_at is not None and not retry:
                raise FailedPrecondition("BIND_CODE_USED", "this bind code was already used",
                                         "绑定码已被使用，请在电脑上刷新二维码")
            if now >= expires:
                raise FailedPrecondition("BIND_CODE_EXPIRED", "this bind code has expired; show a new one",
                                         "绑定码已过期，请在电脑上刷新二维码")
            domain.check_bind(s, c, now)
            replaced = c.phone_device_id if c.phone_device_id and c.phone_device_id != phone else ""
            if not retry:
                await store.use_bind_code(t.conn, _code_hash(code), now, phone)
                actor = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_DEVICE, id=phone)
                binding = {"phone_device_id": phone, "phone_last_seen": now, "phone_offline_since": None}
                to = domain.after_phone_bound(s, c)
                if to != c.state:
                    c = await self._move(t, c, s, to, now, actor, "PHONE_BOUND", **binding)
                else:
                    await store.update_candidate(t.conn, c, **binding)
                    c = _with(c, phone_device_id=phone, phone_last_seen=now)
                kind = (session_pb2.SESSION_EVENT_KIND_PHONE_REBOUND if replaced
                        else session_pb2.SESSION_EVENT_KIND_PHONE_BOUND)
                event = ev.session_event(c, s, now, to_state=c.state, version=c.state_version,
                                         actor=actor, reason=session_pb2.SessionEventKind.Name(kind),
                                         kind=kind)
                event.phone_binding.device_id = phone
                event.phone_binding.replaced_device_id = replaced
                event.phone_binding.device.CopyFrom(req.device)
                event.meta.event_id = f"{c.sitting_id}:{c.candidate_id}:bind:{phone}:{now.timestamp()}"
                t.emit(topics.SESSION_EVENTS.name, c.candidate_id, event)
                if replaced:
                    t.emit(topics.AUDIT.name, c.candidate_id, ev.audit_event(
                        actor, "PHONE_REBOUND", c.sitting_id, c.candidate_id,
                        "a new phone replaced the bound one", now,
                        attributes={"replaced_device_id": replaced}, device_id=phone))
        until = s.timeline.upload_deadline + timedelta(seconds=self.settings.phone_token_margin_s)
        token, claims = self.signer.issue(
            sub=f"phone:{phone}", role=Role.PHONE, ttl_s=max(60, int((until - now).total_seconds())),
            now=now.timestamp(), sitting_id=c.sitting_id, candidate_id=c.candidate_id, device_id=phone)
        return pb.BindPhoneResponse(
            device_token=token, device_token_expires_at=ts(datetime.fromtimestamp(claims.exp, UTC)),
            sitting_id=c.sitting_id, candidate_id=c.candidate_id, candidate_display_name=c.display_name,
            replaced_device_id=replaced, status=self.status(c, s, now))

    def _code_from(self, req: pb.BindPhoneRequest) -> str:
        which = req.WhichOneof("code")
        if which == "bind_code":
            return req.bind_code.strip().upper()
        if which == "qr_payload" and req.qr_payload.startswith(QR_PREFIX):
            claims = self.verifier.verify(req.qr_payload[len(QR_PREFIX):])
            code = claims.extra.get("bind_code", "")
            if code:
                return code
        raise NotFound("BIND_CODE_INVALID", "send the bind code or the scanned QR payload",
                       "绑定码无效")

    async def room_scan_recorded(self, sitting_id: str, candidate_id: str, event_id: str) -> None:
        _, s = await self.sitting(sitting_id)
        now = self.clock()
        async with self.tx() as t:
            row = await store.lock_candidate(t.conn, sitting_id, candidate_id)
            c = row.candidate
            if c.room_scanned:
                return
            to = domain.after_room_scan(c)
            if to is None:
                await store.update_candidate(t.conn, c, room_scanned=True)
                return
            media = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_SERVICE, id="media-ingest")
            await self._move(t, c, s, to, now, media, "ROOM_SCAN_RECORDED", note=event_id,
                             room_scanned=True)

    async def upload_complete(self, sitting_id: str, candidate_id: str, attempt: int, event_id: str) -> None:
        _, s = await self.sitting(sitting_id)
        now = self.clock()
        async with self.tx() as t:
            row = await store.lock_candidate(t.conn, sitting_id, candidate_id)
            c = row.candidate
            if attempt and attempt != c.attempt_number:
                return  # an earlier mock attempt's upload
            if c.state == State.FINISHED:
                media = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_SERVICE, id="media-ingest")
                await self._move(t, c, s, State.UPLOADED, now, media, "UPLOAD_COMPLETE", note=event_id,
                                 upload_complete=True)
            elif not c.upload_complete:
                await store.update_candidate(t.conn, c, upload_complete=True)

    async def enter_waiting(self, claims: Claims | None, req: pb.EnterWaitingRoomRequest,
                            ) -> pb.CandidateStatus:
        now = self.clock()
        async with self.candidate(claims, req.sitting_id, req.candidate_id) as (t, s, row, checked):
            c = row.candidate
            to = domain.decide_waiting(s, c, now)
            if to != c.state:
                c = await self._move(t, c, s, to, now, access.actor(checked), "ENTER_WAITING_ROOM")
        return self.status(c, s, now)

    async def enter(self, claims: Claims | None, req: pb.EnterRequest) -> pb.EnterResponse:
        now = self.clock()
        async with self.candidate(claims, req.sitting_id, req.candidate_id) as (t, s, row, checked):
            c = row.candidate
            decision = domain.decide_enter(s, c, now)
            if not decision.already_in:
                actor = access.actor(checked)
                if c.state != State.WAITING:
                    c = await self._move(t, c, s, State.WAITING, now, actor, "ENTER_WAITING_ROOM")
                c = await self._move(t, c, s, State.IN_EXAM, now, actor, "ENTER_EXAM",
                                     attempt_ends_at=decision.attempt_ends_at, current_index=0,
                                     desktop_last_seen=now)
            current = await self._load_current(t.conn, s, c, now)
        return pb.EnterResponse(status=self.status(c, s, now), current=current)

    async def _load_current(self, conn: AsyncConnection, s: Sitting, c: Candidate, now: datetime,
                            ) -> pb.CurrentQuestion:
        return self._current(s, c, now, await store.get_answer(conn, c, c.current_index))

    def _current(self, s: Sitting, c: Candidate, now: datetime, answer: store.AnswerRow | None,
                 ) -> pb.CurrentQuestion:
        q = s.questions[c.current_index]
        out = pb.CurrentQuestion(question=convert.question_proto(q), index=c.current_index,
                                 total=len(s.questions), is_last=c.current_index + 1 == len(s.questions),
                                 server_time=ts(now))
        if c.attempt_ends_at:
            out.ends_at.CopyFrom(ts(c.attempt_ends_at))
        if answer is not None:
            out.saved_answer.CopyFrom(convert.answer_to_proto(answer.answer))
            out.answer_revision = answer.revision
        return out

    async def current_question(self, claims: Claims | None, req: pb.GetCurrentQuestionRequest,
                               ) -> pb.CurrentQuestion:
        now = self.clock()
        async with self.candidate(claims, req.sitting_id, req.candidate_id) as (t, s, row, _):
            domain.check_answering(row.candidate, now)
            return await self._load_current(t.conn, s, row.candidate, now)

    @asynccontextmanager
    async def answering(self, checked: Claims, sitting_id: str, candidate_id: str, client_request_id: str,
                        ) -> AsyncIterator[tuple[Tx, Candidate, tuple[str, bytes] | None,
                                                 dict[int, store.AnswerRow]]]:
        """The general answering path: lock the candidate and read what answering needs at once."""
        async with self.tx() as t:
            row, stored, answers = await store.lock_for_answering(t.conn, sitting_id, candidate_id,
                                                                  client_request_id)
            access.device_matches(checked, row.candidate)
            yield t, row.candidate, stored, answers

    async def _batched(self, checked: Claims, s: Sitting, candidate_id: str,
                       decide: Callable[[Seen], tuple[M, Op | None]], response: type[M]) -> M | None:
        """The answering hot path: decide from what this replica remembers of the candidate and write
        in a batch. None when the general path must answer (nothing remembered, a rule refused on the
        remembered state, or the remembered state was out of date)."""
        seen = self.seen.get(s.sitting_id, candidate_id)
        if seen is None:
            ANSWER_PATHS["general"].inc()
            return None
        try:
            access.device_matches(checked, seen.candidate)
            out, op = decide(seen)
        except (DomainError, _NotRemembered):
            op = None
        if op is None:
            ANSWER_PATHS["general"].inc()
            return None
        result = await self.batcher.submit(s.sitting_id, op)
        if result.stored is not None:
            return _replay(response, result.stored)
        if not result.applied:
            self.seen.forget(s.sitting_id, candidate_id)
            return None
        self.seen.put(seen.after(op, result.following, following_known=True))
        return out

    def _decide_save(self, s: Sitting, seen: Seen, req: pb.SaveAnswerRequest, answer: domain.Answer,
                     raw: bytes | None, now: datetime) -> tuple[pb.SaveAnswerResponse, Op]:
        c = seen.candidate
        domain.check_answering(c, now)
        q = domain.check_current(s, c, req.question_id)
        domain.validate_answer(s, q, answer, len(raw or b""))
        revision = max(seen.revision, 0) + 1
        out = pb.SaveAnswerResponse(question_id=q.question_id, revision=revision, saved_at=ts(now))
        return out, Op(candidate=c, question_id=q.question_id, client_request_id=req.client_request_id,
                       kind="save", response=out.SerializeToString(), expect_revision=seen.revision,
                       answer=raw, revision=revision, keep=False, next_index=None, now=now,
                       client_time=_client_time(req))

    def _decide_advance(self, s: Sitting, seen: Seen, req: pb.AdvanceRequest, now: datetime,
                        ) -> tuple[pb.AdvanceResponse, Op | None]:
        """The advance, or (no op) the answer to a repeated advance from a question already left."""
        c = seen.candidate
        domain.check_answering(c, now)
        index = s.question_index(req.from_question_id)
        if index < c.current_index:  # already advanced from it: same result
            if seen.revision >= 0 and seen.current_row is None:
                raise _NotRemembered  # the response shows the current answer: read it
            return pb.AdvanceResponse(locked_question_id=req.from_question_id, duplicate=True,
                                      current=self._current(s, c, now, seen.current_row)), None
        next_index = domain.check_advance(s, c, req.from_question_id)
        if seen.known_to < next_index:
            raise _NotRemembered
        q = s.questions[c.current_index]
        keep = not req.HasField("final_answer")
        raw, revision = None, max(seen.revision, 0)
        if not keep:
            answer, raw = convert.answer_from_proto(req.final_answer)
            domain.validate_answer(s, q, answer, len(raw or b""))
            revision += 1
        moved = _with(c, current_index=next_index)
        out = pb.AdvanceResponse(locked_question_id=q.question_id, locked_at=ts(now),
                                 current=self._current(s, moved, now, seen.ahead.get(next_index)))
        return out, Op(candidate=c, question_id=q.question_id, client_request_id=req.client_request_id,
                       kind="advance", response=out.SerializeToString(), expect_revision=seen.revision,
                       answer=raw, revision=revision, keep=keep, next_index=next_index, now=now,
                       client_time=_client_time(req))

    async def save_answer(self, claims: Claims | None, req: pb.SaveAnswerRequest) -> pb.SaveAnswerResponse:
        now = self.clock()
        answer, raw = convert.answer_from_proto(req.answer)
        return await self._answer(claims, req, pb.SaveAnswerResponse,
                                  lambda s, seen: self._decide_save(s, seen, req, answer, raw, now))

    async def advance(self, claims: Claims | None, req: pb.AdvanceRequest) -> pb.AdvanceResponse:
        now = self.clock()
        return await self._answer(claims, req, pb.AdvanceResponse,
                                  lambda s, seen: self._decide_advance(s, seen, req, now))

    async def _answer(self, claims: Claims | None, req: pb.SaveAnswerRequest | pb.AdvanceRequest,
                      response: type[M], decide: Callable[[Sitting, Seen], tuple[M, Op | None]]) -> M:
        """A save or an advance: batched from memory when possible, else on the general path."""
        checked = access.own_target(claims, req.sitting_id, req.candidate_id)
        _, s = await self.sitting(req.sitting_id)

        def decide_here(seen: Seen) -> tuple[M, Op | None]:
            return decide(s, seen)

        batched = await self._batched(checked, s, req.candidate_id, decide_here, response)
        if batched is not None:
            return batched
        return await self._answer_generally(checked, s, req.candidate_id, req.client_request_id, decide_here,
                                            response)

    async def _answer_generally(self, checked: Claims, s: Sitting, candidate_id: str, client_request_id: str,
                                decide: Callable[[Seen], tuple[M, Op | None]], response: type[M]) -> M:
        """The general path: under the candidate's row lock, replay a known request or decide and write."""
        async with self.answering(checked, s.sitting_id, candidate_id, client_request_id) as (
                t, c, stored, answers):
            if stored is not None:
                return _replay(response, stored)
            seen = Seen.of(c, answers, c.current_index + store.ANSWERS_AHEAD)
            out, op = decide(seen)
            if op is not None:
                await store.write_answering(t.conn, op)
        self.seen.put(seen.after(op) if op is not None else seen)
        return out

    async def sync_offline(self, claims: Claims | None, req: pb.SyncOfflineAnswersRequest,
                           ) -> pb.SyncOfflineAnswersResponse:
        if len(req.ops) > self.settings.max_offline_ops:
            raise InvalidArgument("BATCH_TOO_LARGE", f"at most {self.settings.max_offline_ops} ops per call",
                                  "单次同步的离线操作过多", {"max": str(self.settings.max_offline_ops)})
        now = self.clock()
        async with self.candidate(claims, req.sitting_id, req.candidate_id) as (t, s, row, _):
            c = row.candidate
            domain.check_sync_window(s, c, now)
            results: dict[str, pb.OfflineOpResult] = {}
            fresh, raws = [], {}
            for op in req.ops:
                prior = await store.stored_response(t.conn, c, op.client_request_id, "offline")
                if prior is not None or not op.client_request_id:
                    results[op.client_request_id] = pb.OfflineOpResult(
                        client_request_id=op.client_request_id,
                        outcome=pb.OFFLINE_OP_OUTCOME_DUPLICATE if prior else pb.OFFLINE_OP_OUTCOME_REJECTED,
                        reason="" if prior else "FIELD_REQUIRED")
                    continue
                fresh.append(_offline_op(op, c.clock_offset_ms))
                raws[op.client_request_id] = op
            offset = timedelta(milliseconds=c.clock_offset_ms)
            outcomes, final_index = domain.evaluate_offline(s, c, fresh, offset)
            flagged_ids: list[str] = []
            for op, outcome in zip(fresh, outcomes, strict=True):
                await self._apply_offline(t, s, c, op, outcome, now, raws[op.client_request_id])
                if outcome.outcome == "FLAGGED":
                    flagged_ids.append(op.question_id)
                if outcome.outcome == "APPLIED" and outcome.new_index is not None:
                    c = _with(c, current_index=outcome.new_index)
                results[op.client_request_id] = pb.OfflineOpResult(
                    client_request_id=op.client_request_id,
                    outcome=pb.OfflineOpOutcome.Value(f"OFFLINE_OP_OUTCOME_{outcome.outcome}"),
                    reason=outcome.reason)
            if final_index != row.candidate.current_index:
                await store.update_candidate(t.conn, c, current_index=final_index)
            if flagged_ids:
                self._flagged_events(t, s, c, now, flagged_ids, outcomes)
            out = pb.SyncOfflineAnswersResponse(results=[results[op.client_request_id] for op in req.ops])
            out.clock_offset.FromTimedelta(offset)
            if c.state == State.IN_EXAM and (c.attempt_ends_at is None or now < c.attempt_ends_at):
                out.current.CopyFrom(await self._load_current(t.conn, s, c, now))
        return out

    async def _apply_offline(self, t: Tx, s: Sitting, c: Candidate, op: domain.OfflineOp,
                             outcome: domain.OpOutcome, now: datetime, raw: pb.OfflineOp) -> None:
        payload = raw.save.answer.SerializeToString() if raw.HasField("save") else None
        corrected = op.client_time
        if outcome.outcome == "APPLIED":
            index = s.question_index(op.question_id)
            if op.advance:
                await store.lock_answer(t.conn, c, index, op.question_id, now)
            else:
                await store.save_answer(t.conn, c, index, op.question_id, payload or None, now,
                                        corrected, source=pb.ANSWER_SOURCE_OFFLINE_SYNC)
        elif outcome.outcome == "FLAGGED":
            await store.flag_answer(t.conn, c, op.question_id, op.client_request_id, payload, corrected,
                                    now, outcome.reason)
        if outcome.outcome in ("APPLIED", "FLAGGED"):
            await store.store_response(t.conn, c, op.client_request_id, "offline", outcome.outcome.encode())

    def _flagged_events(self, t: Tx, s: Sitting, c: Candidate, now: datetime, question_ids: list[str],
                        outcomes: list[domain.OpOutcome]) -> None:
        event = ev.session_event(c, s, now, to_state=c.state, version=c.state_version, actor=ev.SYSTEM,
                                 reason="OFFLINE_ANSWERS_FLAGGED",
                                 kind=session_pb2.SESSION_EVENT_KIND_ANSWERS_FLAGGED)
        event.meta.event_id = f"{c.sitting_id}:{c.candidate_id}:flagged:{now.timestamp()}"
        counts = {k: sum(1 for o in outcomes if o.outcome == k) for k in ("APPLIED", "FLAGGED", "REJECTED")}
        event.offline_sync.applied = counts["APPLIED"]
        event.offline_sync.flagged = counts["FLAGGED"]
        event.offline_sync.rejected = counts["REJECTED"]
        event.offline_sync.flagged_question_ids.extend(sorted(set(question_ids)))
        t.emit(topics.SESSION_EVENTS.name, c.candidate_id, event)
        t.emit(topics.INCIDENTS.name, c.candidate_id, ev.session_incident(
            c, now, kind=common_pb2.INCIDENT_KIND_OFFLINE_ANSWER_FLAGGED, severity=common_pb2.SEVERITY_MEDIUM,
            start=now, summary_en=f"{counts['FLAGGED']} offline answers kept for review",
            summary_zh=f"{counts['FLAGGED']} 条离线答案待复核", end=now,
            attributes={"question_ids": ",".join(sorted(set(question_ids)))}))

    async def heartbeat(self, claims: Claims | None, req: pb.HeartbeatRequest) -> pb.HeartbeatResponse:
        now = self.clock()
        phone = req.device_kind == common_pb2.DEVICE_KIND_PHONE
        roles = (Role.PHONE,) if phone else (Role.CANDIDATE,)
        async with self.candidate(claims, req.sitting_id, req.candidate_id, roles) as (t, s, row, _):
            c = row.candidate
            changes: dict[str, object] = {}
            if phone:
                changes["phone_last_seen"] = now
                offline_since = row.phone_offline_since
            else:
                changes["desktop_last_seen"] = now
                offline_since = row.desktop_offline_since
                if req.HasField("client_time"):
                    changes["clock_offset_ms"] = domain.clock_offset(
                        c.clock_offset_ms, now, req.client_time.ToDatetime(UTC), row.heartbeat_samples + 1)
                    changes["heartbeat_samples"] = row.heartbeat_samples + 1
            if offline_since is not None:
                changes["phone_offline_since" if phone else "desktop_offline_since"] = None
                self._back_online(t, s, c, now, offline_since, req.device_kind, req.device_id)
                await store.close_offline_period(t.conn, c, req.device_kind, offline_since, now)
            await store.update_candidate(t.conn, c, **changes)
        out = pb.HeartbeatResponse(server_time=ts(now), state=int(c.state),
                                   desktop_online=True if not phone else _recent(c.desktop_last_seen, now, s),
                                   phone_online=True if phone else _recent(c.phone_last_seen, now, s),
                                   resync_required=req.pending_offline_ops > 0)
        out.next_heartbeat_in.FromTimedelta(s.policy.heartbeat_interval)
        out.clock_offset.FromTimedelta(timedelta(milliseconds=int(changes.get("clock_offset_ms",  # type: ignore[call-overload]
                                                                                    c.clock_offset_ms))))
        if c.attempt_ends_at:
            out.ends_at.CopyFrom(ts(c.attempt_ends_at))
        return out

    def _back_online(self, t: Tx, s: Sitting, c: Candidate, now: datetime, since: datetime,
                     device_kind: int, device_id: str) -> None:
        event = ev.session_event(c, s, now, to_state=c.state, version=c.state_version, actor=ev.SYSTEM,
                                 reason="DEVICE_ONLINE", kind=session_pb2.SESSION_EVENT_KIND_DEVICE_ONLINE)
        event.meta.event_id = f"{c.sitting_id}:{c.candidate_id}:online:{device_kind}:{since.isoformat()}"
        event.connectivity.device_kind = device_kind
        event.connectivity.device_id = device_id
        event.connectivity.last_seen.CopyFrom(ts(now))
        event.connectivity.offline_for.FromTimedelta(now - since)
        t.emit(topics.SESSION_EVENTS.name, c.candidate_id, event)
        kind = (common_pb2.INCIDENT_KIND_PHONE_OFFLINE if device_kind == common_pb2.DEVICE_KIND_PHONE
                else common_pb2.INCIDENT_KIND_NETWORK_OFFLINE)
        t.emit(topics.INCIDENTS.name, c.candidate_id, ev.session_incident(
            c, now, kind=kind, severity=common_pb2.SEVERITY_MEDIUM, start=since, end=now, revision=2,
            change=incident_pb2.INCIDENT_CHANGE_CLOSED,
            summary_en=f"device back online after {int((now - since).total_seconds())} s",
            summary_zh=f"设备离线 {int((now - since).total_seconds())} 秒后恢复"))
        t.emit(topics.CLIENT_TELEMETRY.name, c.candidate_id, self._server_sample(
            c, now, device_kind, device_id, common_pb2.TELEMETRY_KIND_DEVICE_ONLINE, now - since))

    def _server_sample(self, c: Candidate, now: datetime, device_kind: int, device_id: str, kind: int,
                       duration: timedelta | None) -> telemetry_pb2.ClientTelemetry:
        sample = common_pb2.TelemetrySample(kind=kind, server_time=ts(now),
                                            source=common_pb2.TELEMETRY_SOURCE_SERVER)
        if duration is not None:
            sample.duration.FromTimedelta(duration)
        return telemetry_pb2.ClientTelemetry(
            meta=meta(sitting_id=c.sitting_id, candidate_id=c.candidate_id, producer=ev.PRODUCER,
                      event_time=now), device_kind=device_kind, device_id=device_id, room_id=c.room_id,
            attempt_number=c.attempt_number, state=int(c.state), samples=[sample], received_at=ts(now))

    async def report_telemetry(self, claims: Claims | None, req: pb.ReportTelemetryRequest,
                               ) -> pb.ReportTelemetryResponse:
        if len(req.samples) > self.settings.max_telemetry_batch:
            raise InvalidArgument("BATCH_TOO_LARGE", f"at most {self.settings.max_telemetry_batch} samples",
                                  "单次上报的数据过多", {"max": str(self.settings.max_telemetry_batch)})
        phone = req.device_kind == common_pb2.DEVICE_KIND_PHONE
        roles = (Role.PHONE,) if phone else (Role.CANDIDATE,)
        now = self.clock()
        async with self.candidate(claims, req.sitting_id, req.candidate_id, roles) as (t, _s, row, checked):
            c = row.candidate
            device = "phone" if phone else "desktop"
            high = row.telemetry_seq[device]
            fresh = sorted((x for x in req.samples if x.sequence > high), key=lambda x: x.sequence)
            out = pb.ReportTelemetryResponse(accepted=len(fresh), duplicates=len(req.samples) - len(fresh),
                                             server_time=ts(now))
            if not fresh:
                return out
            event = telemetry_pb2.ClientTelemetry(
                meta=meta(sitting_id=c.sitting_id, candidate_id=c.candidate_id, producer=ev.PRODUCER,
                          event_time=now, event_id=f"{c.sitting_id}:{c.candidate_id}:{device}:"
                          f"{fresh[0].sequence}-{fresh[-1].sequence}"),
                device_kind=req.device_kind, device_id=checked.device_id, room_id=c.room_id,
                attempt_number=c.attempt_number, state=int(c.state), received_at=ts(now))
            event.clock_offset.FromTimedelta(timedelta(milliseconds=c.clock_offset_ms))
            for sample in fresh:
                copy = event.samples.add()
                copy.CopyFrom(sample)
                copy.server_time.CopyFrom(ts(now))
                copy.source = common_pb2.TELEMETRY_SOURCE_CLIENT
            t.emit(topics.CLIENT_TELEMETRY.name, c.candidate_id, event)
            await store.update_candidate(t.conn, c, **{f"telemetry_seq_{device}": fresh[-1].sequence})
        return out

    async def send_help(self, claims: Claims | None, req: pb.SendHelpMessageRequest,
                        ) -> pb.SendHelpMessageResponse:
        text = req.text.strip()
        if not text:
            raise InvalidArgument("MESSAGE_EMPTY", "the message is empty", "消息不能为空", {"field": "text"})
        if len(text) > 2000:
            raise InvalidArgument("MESSAGE_TOO_LONG", "at most 2000 characters", "消息不能超过2000字",
                                  {"field": "text", "max": "2000"})
        now = self.clock()
        async with self.candidate(claims, req.sitting_id, req.candidate_id) as (t, _s, row, checked):
            c = row.candidate
            stored = await store.stored_response(t.conn, c, req.client_message_id, "help")
            if stored is not None:
                return pb.SendHelpMessageResponse(message=common_pb2.ChatMessage.FromString(stored),
                                                  duplicate=True)
            self.help_limiter.check(f"{c.sitting_id}/{c.candidate_id}")
            message = common_pb2.ChatMessage(
                message_id=f"msg-{secrets.token_hex(10)}", thread_id=f"{c.sitting_id}/{c.candidate_id}",
                sitting_id=c.sitting_id, candidate_id=c.candidate_id, room_id=c.room_id,
                direction=common_pb2.CHAT_DIRECTION_CANDIDATE_TO_PROCTOR, text=text,
                author=access.actor(checked), sent_at=ts(now), client_message_id=req.client_message_id)
            if req.HasField("client_time"):
                message.client_time.CopyFrom(req.client_time)
            t.emit(topics.HELP_MESSAGES.name, c.candidate_id, messaging_pb2.HelpMessage(
                meta=meta(sitting_id=c.sitting_id, candidate_id=c.candidate_id, producer=ev.PRODUCER,
                          event_time=now, event_id=message.message_id), message=message))
            await store.store_response(t.conn, c, req.client_message_id, "help", message.SerializeToString())
        return pb.SendHelpMessageResponse(message=message)

    async def finish(self, claims: Claims | None, req: pb.FinishRequest) -> pb.CandidateStatus:
        now = self.clock()
        async with self.candidate(claims, req.sitting_id, req.candidate_id) as (t, s, row, checked):
            c = row.candidate
            if domain.check_finish(c, now):
                c = await self._move(t, c, s, State.FINISHED, now, access.actor(checked), "FINISH_CONFIRMED")
        return self.status(c, s, now)

    # --- staff ---------------------------------------------------------------------------------------
    async def staff_transition(self, claims: Claims | None, req: pb.StaffTransitionRequest,
                               ) -> pb.CandidateStatus:
        checked = access.require_staff(claims, allow_chief=True, sitting_id=req.sitting_id)
        if not req.reason.strip():
            raise InvalidArgument("REASON_REQUIRED", "an override needs a reason", "人工干预必须填写原因",
                                  {"field": "reason"})
        if req.to_state not in [int(x) for x in State]:
            raise InvalidArgument("TRANSITION_NOT_ALLOWED", "unknown target state", "目标状态无效",
                                  {"field": "to_state"})
        to = State(req.to_state)
        _, s = await self.sitting(req.sitting_id)
        now = self.clock()
        actor = access.actor(checked)
        async with self.tx() as t:
            row = await store.lock_candidate(t.conn, req.sitting_id, req.candidate_id)
            c = row.candidate
            if req.expected_from_state and req.expected_from_state != int(c.state):
                raise Aborted("STATE_CHANGED", f"the candidate is now {c.state.name}",
                              "考生状态已变化，请刷新后重试", {"state": c.state.name})
            changes: dict[str, object] = {}
            if req.clear_zero_score:
                changes.update(zero_score=False, zero_score_reason="")
            if to == State.IN_EXAM and c.attempt_ends_at is None:
                changes["attempt_ends_at"] = s.timeline.end
                changes["desktop_last_seen"] = now
            if to == c.state:
                await store.update_candidate(t.conn, c, **changes)
            else:
                c = await self._move(t, c, s, to, now, actor, "STAFF_OVERRIDE", note=req.reason, **changes)
            if req.clear_zero_score:
                c = _with(c, zero_score=False, zero_score_reason="")
            t.emit(topics.AUDIT.name, c.candidate_id, ev.audit_event(
                actor, "STAFF_TRANSITION", c.sitting_id, c.candidate_id, req.reason, now,
                attributes={"to_state": to.name, "ticket": req.ticket_ref,
                            "clear_zero_score": str(req.clear_zero_score).lower()}))
        return self.status(c, s, now)

    async def export_sheet(self, claims: Claims | None, req: pb.ExportAnswerSheetRequest) -> pb.AnswerSheet:
        access.require_staff(claims, allow_service=True)
        _, s = await self.sitting(req.sitting_id)
        async with self.pool.connection() as conn:
            row = await store.get_candidate(conn, req.sitting_id, req.candidate_id)
            return await self._sheet(conn, s, row.candidate, req.attempt_number, req.allow_partial)

    async def stream_sheets(self, claims: Claims | None, req: pb.StreamAnswerSheetsRequest,
                            ) -> AsyncIterator[pb.AnswerSheet]:
        access.require_staff(claims, allow_service=True)
        _, s = await self.sitting(req.sitting_id)
        after = ""
        while True:
            async with self.pool.connection() as conn:
                rows = await store.list_candidates(conn, req.sitting_id, list(req.room_ids) or None, [],
                                                   after, 500)
                sheets = []
                for row in rows:
                    c = row.candidate
                    if c.attempt_number == 0:
                        continue
                    if not req.allow_partial and c.state not in (State.FINISHED, State.UPLOADED,
                                                                 State.ABANDONED):
                        continue
                    sheets.append(await self._sheet(conn, s, c, 0, True))
            for sheet in sheets:
                yield sheet
            if len(rows) < 500:
                return
            after = rows[-1].candidate.candidate_id

    async def _sheet(self, conn: AsyncConnection, s: Sitting, c: Candidate, attempt: int,
                     allow_partial: bool) -> pb.AnswerSheet:
        final = c.state in (State.FINISHED, State.UPLOADED, State.ABANDONED)
        if not final and not allow_partial:
            raise FailedPrecondition("SHEET_NOT_FINAL", "the answer sheet is final once the exam ends",
                                     "答卷在考试结束后才最终确定", {"state": c.state.name})
        number = attempt or c.attempt_number
        answers = {a.question_index: a for a in await store.list_answers(conn, c.sitting_id,
                                                                         c.candidate_id, number)}
        flagged: dict[str, list[tuple[object, ...]]] = {}
        for qid, raw, client_time, received, reason in await store.list_flagged(
                conn, c.sitting_id, c.candidate_id, number):
            flagged.setdefault(qid, []).append((raw, client_time, received, reason))
        sheet = pb.AnswerSheet(sitting_id=c.sitting_id, candidate_id=c.candidate_id, attempt_number=number,
                               sitting_kind=int(s.kind), state=int(c.state), final=final,
                               zero_score=c.zero_score, zero_score_reason=c.zero_score_reason,
                               exported_at=ts(self.clock()))
        for q in s.questions:
            record = sheet.answers.add(question_id=q.question_id, position=q.position, type=int(q.qtype))
            a = answers.get(q.position)
            if a is not None:
                record.answer.CopyFrom(convert.answer_to_proto(a.answer))
                record.revision = a.revision
                record.source = a.source
                record.saved_at.CopyFrom(ts(a.saved_at))
                if a.client_time:
                    record.client_time.CopyFrom(ts(a.client_time))
                if a.locked_at:
                    record.locked_at.CopyFrom(ts(a.locked_at))
            for raw, client_time, received, reason in flagged.get(q.question_id, []):
                record.flagged.add(answer=convert.answer_to_proto(raw), client_time=ts(client_time),  # type: ignore[arg-type]
                                   received_at=ts(received), reason=str(reason))  # type: ignore[arg-type]
        digest = hashlib.sha256()
        for record in sheet.answers:
            digest.update(record.SerializeToString(deterministic=True))
        sheet.sha256 = digest.digest()
        return sheet


# --- helpers -------------------------------------------------------------------------------------------

def _same_kind(stored: tuple[str, bytes], kind: str) -> bytes:
    if stored[0] != kind:
        raise InvalidArgument("REQUEST_ID_REUSED", "client_request_id was already used for another call",
                              "请求编号已被其他操作使用", {"field": "client_request_id"})
    return stored[1]


class _NotRemembered(Exception):
    """The hot path does not know enough of the candidate to decide: the general path will."""


def _replay(response: type[M], stored: tuple[str, bytes]) -> M:
    """The stored response of an earlier call with the same client request id, marked duplicate."""
    kind = "save" if response is pb.SaveAnswerResponse else "advance"  # the kind Op.kind stored
    replay = response.FromString(_same_kind(stored, kind))
    replay.duplicate = True  # type: ignore[attr-defined]
    return replay


def _client_time(req: pb.SaveAnswerRequest | pb.AdvanceRequest) -> datetime | None:
    return req.client_time.ToDatetime(UTC) if req.HasField("client_time") else None


def _code_hash(code: str) -> bytes:
    return hashlib.sha256(code.encode()).digest()


def _with(c: Candidate, **changes: object) -> Candidate:
    return replace(c, **changes)  # type: ignore[arg-type]


def _updated(c: Candidate, to: State, now: datetime, version: int, changes: dict[str, object]) -> Candidate:
    fields = {k: v for k, v in changes.items() if k in Candidate.__dataclass_fields__}
    return _with(c, state=to, state_since=now, state_version=version, **fields)


def _recent(last: datetime | None, now: datetime, s: Sitting) -> bool:
    return last is not None and now - last <= s.policy.abandon_grace


def _offline_op(op: pb.OfflineOp, offset_ms: int) -> domain.OfflineOp:
    client_time = op.client_time.ToDatetime(UTC) + timedelta(milliseconds=offset_ms)
    if op.HasField("save"):
        answer, raw = convert.answer_from_proto(op.save.answer)
        return domain.OfflineOp(op.client_request_id, op.client_sequence, client_time, op.save.question_id,
                                advance=False, answer=answer, size=len(raw or b""))
    return domain.OfflineOp(op.client_request_id, op.client_sequence, client_time,
                            op.advance.from_question_id, advance=True)

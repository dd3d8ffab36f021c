"""Sessions after login (refresh, status, revocation) and staff overrides (admit with a claim code,
allow a device switch), redeemed by the candidate's client with ClaimOverride."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from psycopg import AsyncConnection

from auth_face import access, convert, crypto, domain, events, metrics, store
from auth_face.core import Core, Issued, new_id
from auth_face.domain import Origin, OverrideKind, ReviewStatus, SessionStatus
from proctor.auth.v1 import auth_face_pb2 as pb
from proctor.common.v1 import common_pb2
from proctor_runtime.errors import FailedPrecondition, InvalidArgument, NotFound, Unauthenticated
from proctor_runtime.events import ts
from proctor_runtime.outbox import Tx
from proctor_runtime.tokens import Claims, Role, require_role


def session_not_found(session_id: str) -> NotFound:
    return NotFound("SESSION_NOT_FOUND", f"no session {session_id!r}", "会话不存在", {"session_id": session_id})


def token_response(issued: Issued) -> pb.SessionTokenResponse:
    return pb.SessionTokenResponse(session_token=issued.token, session_id=issued.session.session_id,
                                   expires_at=ts(issued.session.expires_at),
                                   replaced_session_id=issued.replaced_session_id)


class Sessions:
    def __init__(self, core: Core) -> None:
        self.core = core

    async def refresh(self, claims: Claims | None, req: pb.RefreshSessionRequest) -> pb.SessionTokenResponse:
        caller = require_role(claims, Role.CANDIDATE)
        if req.session_id != caller.jti:
            raise access.not_yours()
        core = self.core
        now = core.clock()
        async with core.tx() as t:
            await store.lock_candidate(t.conn, caller.sitting_id, caller.candidate_id)
            s = await store.get_session(t.conn, req.session_id, lock=True)
            if s is None:
                raise session_not_found(req.session_id)
            if (s.sitting_id, s.candidate_id, s.device_id) != (caller.sitting_id, caller.candidate_id,
                                                               caller.device_id):
                raise access.not_yours()
            status = domain.session_status(s.revoked_at, s.expires_at, now)
            if status is SessionStatus.REVOKED:
                raise Unauthenticated("SESSION_REVOKED", "this session was revoked; sign in again",
                                      "会话已被撤销，请重新登录", {"revoke_reason": s.revoke_reason})
            if status is SessionStatus.EXPIRED:
                raise Unauthenticated("TOKEN_EXPIRED", "the session has expired; sign in again",
                                      "会话已过期，请重新登录")
            window = timedelta(seconds=core.settings.refresh_idempotency_s)
            if s.refreshed_at is None or now - s.refreshed_at >= window:
                s.token_iat = int(now.timestamp())
                s.expires_at = datetime.fromtimestamp(s.token_iat + core.settings.session_ttl_s, UTC)
                s.refreshed_at = now
                await store.refresh_session(t.conn, s.session_id, now, s.token_iat, s.expires_at)
                metrics.SESSIONS.labels("refreshed").inc()
        return pb.SessionTokenResponse(session_token=core.token_for(s), session_id=s.session_id,
                                       expires_at=ts(s.expires_at))

    async def get(self, claims: Claims | None, req: pb.GetSessionRequest) -> pb.SessionInfo:
        caller = require_role(claims, Role.CANDIDATE, Role.STAFF, Role.SERVICE)
        async with self.core.pool.connection() as conn:
            s = await store.get_session(conn, req.session_id)
        if s is None:
            raise session_not_found(req.session_id)
        access.own_or(caller, s.sitting_id, s.candidate_id, Role.STAFF, Role.SERVICE)
        return convert.session_info(s, self.core.clock())

    async def revoke(self, claims: Claims | None, req: pb.RevokeSessionRequest) -> pb.SessionInfo:
        caller = require_role(claims, Role.CANDIDATE, Role.STAFF, Role.SERVICE)
        core = self.core
        async with core.pool.connection() as conn:
            found = await store.get_session(conn, req.session_id)
        if found is None:
            raise session_not_found(req.session_id)
        access.own_or(caller, found.sitting_id, found.candidate_id, Role.STAFF, Role.SERVICE)
        reason = (req.reason.strip() or "LOGOUT") if caller.role == Role.CANDIDATE \
            else domain.required_reason(req.reason, "revoking a session")
        now = core.clock()
        async with core.tx() as t:
            await store.lock_candidate(t.conn, found.sitting_id, found.candidate_id)
            s = await store.get_session(t.conn, req.session_id, lock=True)
            assert s is not None
            if s.revoked_at is None:
                await store.revoke_session(t.conn, s.session_id, now, reason)
                s.revoked_at, s.revoke_reason = now, reason
                metrics.SESSIONS.labels("revoked").inc()
                t.audit(events.audit_event(access.actor(caller), "auth.session.revoke", s.sitting_id, s.candidate_id,
                                           now, reason=reason, target_type="session", target_id=s.session_id,
                                           device_id=s.device_id, session_id=s.session_id), s.candidate_id)
        return convert.session_info(s, now)

    # --- staff override ----------------------------------------------------------------------------------
    async def staff_override(self, claims: Claims | None, req: pb.StaffOverrideRequest) -> pb.StaffOverrideResponse:
        caller = access.staff(claims)
        core = self.core
        sitting_id = domain.required(req.sitting_id, "sitting_id")
        candidate_id = domain.required(req.candidate_id, "candidate_id")
        reason = domain.required_reason(req.reason, "a staff override")
        if req.kind not in (OverrideKind.ADMIT, OverrideKind.ALLOW_DEVICE_SWITCH):
            raise InvalidArgument("FIELD_INVALID", "kind must be ADMIT or ALLOW_DEVICE_SWITCH", "干预类型无效",
                                  {"field": "kind"})
        validity = req.validity.ToSeconds() if req.HasField("validity") else core.settings.override_validity_s
        if not 0 < validity <= core.settings.max_override_validity_s:
            raise InvalidArgument("FIELD_INVALID", f"validity must be 1..{core.settings.max_override_validity_s} s",
                                  "有效期无效", {"field": "validity"})
        now = core.clock()
        async with core.tx() as t:
            if req.client_request_id:
                prior = await store.override_by_request(t.conn, caller.sub, req.client_request_id)
                if prior is not None:
                    if (prior.sitting_id, prior.candidate_id, prior.kind) != (sitting_id, candidate_id, req.kind):
                        raise InvalidArgument("REQUEST_ID_REUSED", "client_request_id was used for another override",
                                              "请求编号已被其他操作使用", {"field": "client_request_id"})
                    return self._override_response(prior)
            await core.known_candidate(t.conn, sitting_id, candidate_id)
            await store.lock_candidate(t.conn, sitting_id, candidate_id)
            if req.kind == OverrideKind.ADMIT:
                row, _ = await core.create_admit(t, sitting_id, candidate_id, reason=reason, actor_id=caller.sub,
                                                 now=now, validity_s=validity, device_id=req.device_id.strip(),
                                                 ticket_ref=req.ticket_ref, client_request_id=req.client_request_id)
                action = "auth.override.admit"
            else:
                row = await self._device_switch(t, sitting_id, candidate_id, req, reason=reason, actor_id=caller.sub,
                                                now=now)
                action = "auth.override.device_switch"
            t.audit(events.audit_event(
                access.actor(caller), action, sitting_id, candidate_id, now, reason=reason, target_type="override",
                target_id=row.override_id, device_id=row.device_id, session_id=row.revoked_session_id,
                attributes={"ticket_ref": req.ticket_ref, "expires_at": row.expires_at.isoformat()}), candidate_id)
        return self._override_response(row)

    async def _device_switch(self, t: Tx, sitting_id: str, candidate_id: str, req: pb.StaffOverrideRequest, *,
                             reason: str, actor_id: str, now: datetime) -> store.OverrideRow:
        revoked = ""
        for s in await store.live_sessions(t.conn, sitting_id, candidate_id, now):
            await store.revoke_session(t.conn, s.session_id, now, "STAFF_DEVICE_SWITCH")
            revoked = s.session_id
            metrics.SESSIONS.labels("revoked").inc()
        row = store.OverrideRow(
            override_id=new_id("ovr"), sitting_id=sitting_id, candidate_id=candidate_id,
            kind=int(OverrideKind.ALLOW_DEVICE_SWITCH), reason=reason, device_id=req.device_id.strip(),
            ticket_ref=req.ticket_ref, actor_id=actor_id, client_request_id=req.client_request_id, code_sha256=None,
            code_key_id="", created_at=now, expires_at=now, used_at=now, used_device_id="", session_id="",
            revoked_session_id=revoked)
        await store.insert_override(t.conn, row)
        return row

    def _override_response(self, row: store.OverrideRow) -> pb.StaffOverrideResponse:
        out = pb.StaffOverrideResponse(override_id=row.override_id, claim_code=self.core.claim_code_of(row),
                                       revoked_session_id=row.revoked_session_id)
        if row.kind == OverrideKind.ADMIT:
            out.expires_at.CopyFrom(ts(row.expires_at))
        return out

    # --- claim -------------------------------------------------------------------------------------------
    async def claim(self, req: pb.ClaimOverrideRequest, peer: str) -> pb.SessionTokenResponse:
        core = self.core
        sitting_id = domain.required(req.sitting_id, "sitting_id")
        candidate_id = domain.required(req.candidate_id, "candidate_id")
        code = domain.required(req.claim_code, "claim_code", max_len=32)
        device_id = domain.required(req.device.device_id, "device.device_id")
        core.limit_prelogin("claim", sitting_id, candidate_id, peer)
        invalid = NotFound("CLAIM_CODE_INVALID", "this claim code is not valid", "授权码无效")
        digest = crypto.code_digest(code)
        async with core.pool.connection() as conn:
            found = await store.override_by_code(conn, digest)
        if found is None or (found.sitting_id, found.candidate_id) != (sitting_id, candidate_id):
            raise invalid
        now = core.clock()
        refused: store.SessionRow | None = None
        issued: Issued | None = None
        async with core.tx() as t:
            await store.lock_candidate(t.conn, sitting_id, candidate_id)
            o = await store.override_by_code(t.conn, digest, lock=True)
            assert o is not None
            if o.used_at is not None:
                retry = await self._retry(t.conn, o, device_id, now)
                if retry is not None:
                    return retry
                raise FailedPrecondition("CLAIM_CODE_USED", "this claim code was already used", "授权码已被使用")
            if now >= o.expires_at:
                raise FailedPrecondition("CLAIM_CODE_EXPIRED", "this claim code has expired; ask the staff for a new "
                                         "one", "授权码已过期，请联系考务人员重新获取")
            if o.device_id and o.device_id != device_id:
                raise FailedPrecondition("WRONG_DEVICE", "this claim code is for another device",
                                         "该授权码只能在指定设备上使用", {"device_id": o.device_id})
            refused = await core.other_device(t, sitting_id, candidate_id, device_id, now)
            if refused is not None:
                await core.refuse_second_device(t, refused, device_id, now, peer, "auth.override.claim")
            else:
                issued = await core.open_session(t, sitting_id, candidate_id, device_id, Origin.STAFF_OVERRIDE, now)
                await store.use_override(t.conn, o.override_id, now, device_id, issued.session.session_id)
                await self._close_pending_review(t, o, now)
                await core.reset_failures(t, sitting_id, candidate_id)
                t.audit(events.audit_event(
                    access.candidate_actor(candidate_id), "auth.override.claim", sitting_id, candidate_id, now,
                    target_type="override", target_id=o.override_id, client_address=peer, device_id=device_id,
                    session_id=issued.session.session_id, attributes={"override_reason": o.reason,
                                                                      "granted_by": o.actor_id}), candidate_id)
        if refused is not None:
            raise domain.active_elsewhere(refused.session_id, refused.device_id)
        assert issued is not None
        metrics.LOGINS.labels("override_claimed").inc()
        return token_response(issued)

    @staticmethod
    async def _close_pending_review(t: Tx, o: store.OverrideRow, now: datetime) -> None:
        """A staff admit claimed while the candidate waits in the review queue settles the review."""
        state = await store.lock_candidate(t.conn, o.sitting_id, o.candidate_id)
        review = await store.get_review(t.conn, state.review_id, lock=True) if state.review_id else None
        if review is None or review.status != ReviewStatus.PENDING:
            return
        review.status, review.resolved_at, review.override_id = int(ReviewStatus.ADMITTED), now, o.override_id
        review.resolved_kind, review.resolved_by = common_pb2.ACTOR_KIND_STAFF, o.actor_id
        review.resolution_reason = f"staff override {o.override_id}: {o.reason}"
        await store.resolve_review(t.conn, review)
        metrics.MANUAL_REVIEWS.labels("resolved_by_override").inc()

    async def _retry(self, conn: AsyncConnection, o: store.OverrideRow, device_id: str,
                     now: datetime) -> pb.SessionTokenResponse | None:
        """The same device redeeming again (lost reply): its session's token, if still active."""
        if o.used_device_id != device_id or not o.session_id:
            return None
        s = await store.get_session(conn, o.session_id)
        if s is None or domain.session_status(s.revoked_at, s.expires_at, now) is not SessionStatus.ACTIVE:
            return None
        return token_response(Issued(s, self.core.token_for(s)))

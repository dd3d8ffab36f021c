"""What every part of the logic layer shares: transactions with the outbox, the clock, rate limits,
the sealed templates, and the session rules (single active login, token issuance, claim codes)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from auth_face import crypto, domain, events, metrics, store
from auth_face.config import Settings
from auth_face.domain import Origin, OverrideKind
from auth_face.inference import Inference
from auth_face.session_tokens import SessionTokenIssuer
from proctor.common.v1 import common_pb2
from proctor_runtime import outbox, topics
from proctor_runtime.errors import NotFound, Unavailable
from proctor_runtime.outbox import Tx
from proctor_runtime.ratelimit import RateLimiter

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(12)}"


@dataclass
class Issued:
    session: store.SessionRow
    token: str
    replaced_session_id: str = ""


class Core:
    def __init__(self, settings: Settings, pool: AsyncConnectionPool, relay: outbox.OutboxRelay,
                 inference: Inference, cipher: crypto.TemplateCipher, issuer: SessionTokenIssuer,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.pool = pool
        self.relay = relay
        self.inference = inference
        self.cipher = cipher
        self.issuer = issuer
        self.clock = clock
        self.ready = False  # set when migrations ran and the pack is warm
        self.per_candidate = RateLimiter(per_minute=settings.prelogin_per_candidate_per_minute)
        self.per_address = RateLimiter(per_minute=settings.prelogin_per_address_per_minute)

    def require_ready(self) -> None:
        if not self.ready:
            raise Unavailable("NOT_READY", "auth-face is starting (loading the face models); retry shortly",
                              "服务正在启动（加载人脸识别模型），请稍后重试", {"retry_after_ms": "2000"})

    def limit_prelogin(self, rpc: str, sitting_id: str, candidate_id: str, peer: str) -> None:
        self.per_address.check(f"{rpc}|{peer}")
        self.per_candidate.check(f"{rpc}|{sitting_id}|{candidate_id}")

    def tx(self) -> AbstractAsyncContextManager[Tx]:
        """One transaction; the events it emits go to the outbox in the same commit."""
        return outbox.transaction(self.pool, self.relay)

    # --- templates -----------------------------------------------------------------------------------
    def open_template(self, row: store.TemplateRow) -> np.ndarray:
        aad = crypto.template_aad(row.sitting_id, row.candidate_id, row.template_id, "template")
        raw = self.cipher.open(crypto.Sealed(row.key_id, row.nonce, row.ciphertext), aad)
        return np.frombuffer(raw, dtype="<f4").copy()

    async def load_template(self, conn: AsyncConnection, sitting_id: str,
                            candidate_id: str) -> tuple[store.TemplateRow, np.ndarray] | None:
        row = await store.get_template(conn, sitting_id, candidate_id)
        return None if row is None else (row, self.open_template(row))

    # --- sessions --------------------------------------------------------------------------------------
    def token_for(self, s: store.SessionRow) -> str:
        origin = "staff_override" if s.origin == Origin.STAFF_OVERRIDE else "face_login"
        token, _ = self.issuer.issue(session_id=s.session_id, sitting_id=s.sitting_id, candidate_id=s.candidate_id,
                                     device_id=s.device_id, iat=s.token_iat, exp=int(s.expires_at.timestamp()),
                                     origin=origin)
        return token

    async def other_device(self, t: Tx, sitting_id: str, candidate_id: str, device_id: str,
                           now: datetime) -> store.SessionRow | None:
        """The active session of another device, if any (single active login)."""
        for s in await store.live_sessions(t.conn, sitting_id, candidate_id, now):
            if s.device_id != device_id:
                return s
        return None

    async def refuse_second_device(self, t: Tx, active: store.SessionRow, device_id: str, now: datetime,
                                   peer: str, via: str) -> None:
        """Report the refused second device (incident + audit) inside the caller's transaction."""
        room = await store.room_of(t.conn, active.sitting_id, active.candidate_id) or ""
        t.emit(topics.INCIDENTS.name, active.candidate_id, events.second_device_incident(
            active.sitting_id, active.candidate_id, room, now, active_session_id=active.session_id,
            active_device_id=active.device_id, device_id=device_id, client_address=peer))
        t.audit(events.audit_event(
            common_pb2.Actor(kind=common_pb2.ACTOR_KIND_CANDIDATE, id=active.candidate_id), via,
            active.sitting_id, active.candidate_id, now, outcome=events.DENIED,
            outcome_reason="ACTIVE_ON_OTHER_DEVICE", client_address=peer, device_id=device_id,
            session_id=active.session_id, attributes={"active_device_id": active.device_id}), active.candidate_id)
        metrics.LOGINS.labels("refused_other_device").inc()

    async def open_session(self, t: Tx, sitting_id: str, candidate_id: str, device_id: str, origin: Origin,
                           now: datetime) -> Issued:
        """A new session for this device; the device's own previous session is replaced (revoked).
        The caller has checked that no other device holds an active session."""
        replaced = ""
        for s in await store.live_sessions(t.conn, sitting_id, candidate_id, now):
            if s.device_id == device_id:
                await store.revoke_session(t.conn, s.session_id, now, "REPLACED_BY_NEW_LOGIN")
                replaced = s.session_id
        iat = int(now.timestamp())
        row = store.SessionRow(session_id=new_id("ses"), sitting_id=sitting_id, candidate_id=candidate_id,
                               device_id=device_id, origin=int(origin), issued_at=now, token_iat=iat,
                               expires_at=datetime.fromtimestamp(iat + self.settings.session_ttl_s, UTC),
                               refreshed_at=None, revoked_at=None, revoke_reason="")
        await store.insert_session(t.conn, row)
        metrics.SESSIONS.labels("issued").inc()
        return Issued(row, self.token_for(row), replaced)

    # --- overrides -------------------------------------------------------------------------------------
    async def create_admit(self, t: Tx, sitting_id: str, candidate_id: str, *, reason: str, actor_id: str,
                           now: datetime, validity_s: int, device_id: str = "", ticket_ref: str = "",
                           client_request_id: str = "") -> tuple[store.OverrideRow, str]:
        """An ADMIT override and its single-use claim code."""
        override_id = new_id("ovr")
        code = self.cipher.claim_code(override_id)
        row = store.OverrideRow(
            override_id=override_id, sitting_id=sitting_id, candidate_id=candidate_id, kind=int(OverrideKind.ADMIT),
            reason=reason, device_id=device_id, ticket_ref=ticket_ref, actor_id=actor_id,
            client_request_id=client_request_id, code_sha256=crypto.code_digest(code),
            code_key_id=self.cipher.active, created_at=now, expires_at=now + timedelta(seconds=validity_s),
            used_at=None, used_device_id="", session_id="", revoked_session_id="")
        await store.insert_override(t.conn, row)
        return row, code

    def claim_code_of(self, row: store.OverrideRow) -> str:
        return self.cipher.claim_code(row.override_id, row.code_key_id) if row.code_sha256 else ""

    async def known_candidate(self, conn: AsyncConnection, sitting_id: str, candidate_id: str) -> None:
        if await store.get_template(conn, sitting_id, candidate_id) is None \
                and await store.room_of(conn, sitting_id, candidate_id) is None:
            raise NotFound("CANDIDATE_NOT_FOUND", f"no candidate {candidate_id!r} in sitting {sitting_id!r}",
                           "考生不存在", {"candidate_id": candidate_id})

    async def reset_failures(self, t: Tx, sitting_id: str, candidate_id: str) -> None:
        state = await store.lock_candidate(t.conn, sitting_id, candidate_id)
        state.failed_attempts, state.last_failures, state.review_id = 0, None, ""
        await store.save_login_state(t.conn, state)


def review_gate(state: store.LoginState, review: store.ReviewRow | None) -> None:
    """Refuse face login while a review blocks it."""
    if state.review_id and review is not None and review.status in (domain.ReviewStatus.PENDING,
                                                                     domain.ReviewStatus.REJECTED):
        raise domain.review_blocked(review.review_id, domain.ReviewStatus(review.status))

"""The manual-review queue: candidates whose face login failed N times, resolved by a proctor of
their room, a chief proctor or staff (admit with a claim code, reject, or allow new attempts)."""

from __future__ import annotations

from psycopg import AsyncConnection

from auth_face import access, convert, domain, events, metrics, store
from auth_face.core import Core
from auth_face.domain import Resolution, ReviewStatus
from proctor.auth.v1 import auth_face_pb2 as pb
from proctor_runtime.errors import FailedPrecondition, InvalidArgument, NotFound
from proctor_runtime.events import ts
from proctor_runtime.tokens import Claims


def review_not_found(review_id: str) -> NotFound:
    return NotFound("REVIEW_NOT_FOUND", f"no review {review_id!r}", "审核记录不存在", {"review_id": review_id})


class Reviews:
    def __init__(self, core: Core) -> None:
        self.core = core

    async def list(self, claims: Claims | None, req: pb.ListManualReviewRequest) -> pb.ListManualReviewResponse:
        sitting_id = domain.required(req.sitting_id, "sitting_id")
        rooms = access.room_scope(claims, sitting_id, [r for r in req.room_ids if r])
        statuses = [int(s) for s in req.statuses] or [int(ReviewStatus.PENDING)]
        limit = min(req.page_size or 50, 500)
        try:
            after = int(req.page_token or 0)
        except ValueError:
            raise InvalidArgument("FIELD_INVALID", "page_token is not one this service issued", "分页标记无效",
                                  {"field": "page_token"}) from None
        async with self.core.pool.connection() as conn:
            rows = await store.list_reviews(conn, sitting_id, rooms, statuses, after, limit + 1)
            out = pb.ListManualReviewResponse()
            for r in rows[:limit]:
                out.items.append(await self._item(conn, r))
        if len(rows) > limit:
            out.next_page_token = str(rows[limit - 1].seq)
        return out

    async def _item(self, conn: AsyncConnection, r: store.ReviewRow) -> pb.ManualReviewItem:
        template = await store.get_template(conn, r.sitting_id, r.candidate_id)
        kept = template.template_id if template is not None and template.photo_ciphertext is not None else ""
        return convert.review_item(r, kept)

    async def resolve(self, claims: Claims | None,
                      req: pb.ResolveManualReviewRequest) -> pb.ResolveManualReviewResponse:
        core = self.core
        review_id = domain.required(req.review_id, "review_id")
        async with core.pool.connection() as conn:
            found = await store.get_review(conn, review_id)
        if found is None:
            raise review_not_found(review_id)
        caller = access.reviewer(claims, found.sitting_id, found.room_id)
        if req.resolution not in (Resolution.ADMIT, Resolution.REJECT, Resolution.ALLOW_RETRY):
            raise InvalidArgument("FIELD_INVALID", "resolution must be ADMIT, REJECT or ALLOW_RETRY", "处理结果无效",
                                  {"field": "resolution"})
        resolution = Resolution(req.resolution)
        reason = domain.required_reason(req.reason, "resolving a review")
        now = core.clock()
        out = pb.ResolveManualReviewResponse()
        async with core.tx() as t:
            state = await store.lock_candidate(t.conn, found.sitting_id, found.candidate_id)
            r = await store.get_review(t.conn, review_id, lock=True)
            assert r is not None
            wanted = domain.RESOLVED_STATUS[resolution]
            if r.status != ReviewStatus.PENDING:
                if r.status != wanted:
                    raise FailedPrecondition("REVIEW_ALREADY_RESOLVED", "this review was already resolved "
                                             f"({ReviewStatus(r.status).name})", "该审核已处理",
                                             {"status": ReviewStatus(r.status).name})
                return await self._resolved(t.conn, r, out)
            r.status, r.resolved_at, r.resolution_reason = int(wanted), now, reason
            actor = access.actor(caller)
            r.resolved_kind, r.resolved_by, r.resolved_name = actor.kind, actor.id, actor.display_name
            if resolution is Resolution.ADMIT:
                o, _ = await core.create_admit(t, r.sitting_id, r.candidate_id, reason=reason, actor_id=caller.sub,
                                               now=now, validity_s=core.settings.override_validity_s,
                                               ticket_ref=r.review_id)
                r.override_id = o.override_id
            if resolution is not Resolution.REJECT:  # REJECT keeps face login blocked
                state.failed_attempts, state.review_id = 0, ""
                await store.save_login_state(t.conn, state)
            await store.resolve_review(t.conn, r)
            t.audit(events.audit_event(
                actor, "auth.review.resolve", r.sitting_id, r.candidate_id, now, reason=reason, target_type="review",
                target_id=r.review_id, attributes={"resolution": resolution.name, "override_id": r.override_id}),
                r.candidate_id)
            metrics.MANUAL_REVIEWS.labels(f"resolved_{resolution.name.lower()}").inc()
            return await self._resolved(t.conn, r, out)

    async def _resolved(self, conn: AsyncConnection, r: store.ReviewRow,
                        out: pb.ResolveManualReviewResponse) -> pb.ResolveManualReviewResponse:
        out.item.CopyFrom(await self._item(conn, r))
        if r.override_id:
            o = await store.override_by_id(conn, r.override_id)
            if o is not None:
                out.claim_code = self.core.claim_code_of(o)
                out.claim_expires_at.CopyFrom(ts(o.expires_at))
        return out

"""Time-driven transitions: devices going offline, ABSENT at last entry, FINISHED at the end,
ABANDONED at the upload deadline. Runs in every replica; rows are claimed with
``FOR UPDATE SKIP LOCKED`` so replicas share the work and never do it twice.

A device is judged offline only by a replica that could have heard it for the whole window: one that
has been up, with its database reachable, for at least the abandon grace. After a restart or a database
outage the silence is ours, not the candidate's; nobody is flagged for it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime

from exam_session import events as ev
from exam_session import store
from exam_session.domain import BEFORE_ENTRY, Candidate, Sitting, State
from exam_session.logic import ExamSessionLogic, Tx
from exam_session.metrics import CANDIDATES_BY_STATE, SWEEP_ACTIONS
from proctor.common.v1 import common_pb2
from proctor.events.v1 import session_pb2
from proctor_runtime import topics

log = logging.getLogger(__name__)

ZERO_SCORE_POLICY = "LEFT_EARLY_SCORES_ZERO"


class Sweeper:
    def __init__(self, logic: ExamSessionLogic) -> None:
        self.logic = logic
        self.batch = logic.settings.sweep_batch
        self._stopping = asyncio.Event()
        self._last_gauges = 0.0
        self.listening_since: datetime | None = logic.clock()  # None while sweeps fail

    def _listening_since(self, now: datetime) -> datetime:
        if self.listening_since is None:
            self.listening_since = now
        return self.listening_since

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.sweep_once()
            except Exception:
                self.listening_since = None
                log.exception("sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.logic.settings.sweep_interval_s)

    async def stop(self) -> None:
        self._stopping.set()

    async def sweep_once(self) -> int:
        now = self.logic.clock()
        async with self.logic.pool.connection() as conn:
            due = await store.due_sittings(conn, now)
        listening_since = self._listening_since(now)
        changed = 0
        for sitting_id in due:
            _, s = await self.logic.sitting(sitting_id)
            changed += await self._sweep_sitting(s, now, listening_since)
        if time.monotonic() - self._last_gauges > 15:
            await self._gauges(due)
        return changed

    async def _sweep_sitting(self, s: Sitting, now: datetime, listening_since: datetime) -> int:
        t = s.timeline
        grace = s.policy.abandon_grace
        cutoff = now - grace
        changed = 0
        if cutoff >= listening_since:
            changed += await self._batches(s, "state = 6 AND desktop_offline_since IS NULL AND "
                                           "desktop_last_seen < %s", [cutoff], now, self._desktop_offline)
            changed += await self._batches(s, "state BETWEEN 3 AND 6 AND phone_device_id <> '' AND "
                                           "phone_offline_since IS NULL AND phone_last_seen < %s",
                                           [cutoff], now, self._phone_offline)
        if now > t.last_entry:
            before = [int(x) for x in BEFORE_ENTRY]
            absent = await self._batches(s, "state = ANY(%s)", [before], now, self._absent)
            changed += absent
        changed += await self._batches(s, "state = 6 AND attempt_ends_at <= %s", [now], now, self._finish)
        if now > t.upload_deadline:
            changed += await self._batches(
                s, "state = 7 AND desktop_offline_since IS NOT NULL AND "
                "desktop_offline_since < attempt_ends_at", [], now, self._abandon)
            async with self.logic.pool.connection() as conn:
                await store.mark_swept(conn, s.sitting_id, "swept_deadline")
        return changed

    async def _batches(self, s: Sitting, where: str, params: list[object], now: datetime,
                       action: object) -> int:
        total = 0
        while True:
            async with self.logic.tx() as t:
                rows = await store.lock_due(t.conn, s.sitting_id, where, params, self.batch)
                for row in rows:
                    await action(t, s, row, now)  # type: ignore[operator]
            total += len(rows)
            if len(rows) < self.batch:
                return total

    async def _desktop_offline(self, t: Tx, s: Sitting, row: store.CandidateRow, now: datetime) -> None:
        await self._offline(t, s, row.candidate, now, common_pb2.DEVICE_KIND_DESKTOP)

    async def _phone_offline(self, t: Tx, s: Sitting, row: store.CandidateRow, now: datetime) -> None:
        await self._offline(t, s, row.candidate, now, common_pb2.DEVICE_KIND_PHONE)

    async def _offline(self, t: Tx, s: Sitting, c: Candidate, now: datetime, device_kind: int) -> None:
        phone = device_kind == common_pb2.DEVICE_KIND_PHONE
        since = c.phone_last_seen if phone else c.desktop_last_seen
        assert since is not None
        device_id = c.phone_device_id if phone else c.desktop_device_id
        await store.update_candidate(t.conn, c, **{"phone_offline_since" if phone
                                                   else "desktop_offline_since": since})
        await store.open_offline_period(t.conn, c, device_kind, since)
        event = ev.session_event(c, s, now, to_state=c.state, version=c.state_version, actor=ev.SYSTEM,
                                 reason="HEARTBEATS_STOPPED",
                                 kind=session_pb2.SESSION_EVENT_KIND_DEVICE_OFFLINE)
        event.meta.event_id = f"{c.sitting_id}:{c.candidate_id}:offline:{device_kind}:{since.isoformat()}"
        event.connectivity.device_kind = device_kind
        event.connectivity.device_id = device_id
        event.connectivity.last_seen.CopyFrom(ev.ts(since))
        t.emit(topics.SESSION_EVENTS.name, c.candidate_id, event)
        kind = common_pb2.INCIDENT_KIND_PHONE_OFFLINE if phone else common_pb2.INCIDENT_KIND_NETWORK_OFFLINE
        what_en, what_zh = ("phone", "手机") if phone else ("desktop client", "电脑客户端")
        t.emit(topics.INCIDENTS.name, c.candidate_id, ev.session_incident(
            c, now, kind=kind, severity=common_pb2.SEVERITY_MEDIUM, start=since,
            summary_en=f"{what_en} offline since {since:%H:%M:%S} UTC",
            summary_zh=f"{what_zh}自 {since:%H:%M:%S} (UTC) 起离线"))
        t.emit(topics.CLIENT_TELEMETRY.name, c.candidate_id, self.logic._server_sample(
            c, now, device_kind, device_id, common_pb2.TELEMETRY_KIND_DEVICE_OFFLINE, None))
        SWEEP_ACTIONS.labels("phone_offline" if phone else "desktop_offline").inc()

    async def _absent(self, t: Tx, s: Sitting, row: store.CandidateRow, now: datetime) -> None:
        await self.logic._move(t, row.candidate, s, State.ABSENT, now, ev.SYSTEM, "NOT_ENTERED_BY_LAST_ENTRY")
        SWEEP_ACTIONS.labels("absent").inc()

    async def _finish(self, t: Tx, s: Sitting, row: store.CandidateRow, now: datetime) -> None:
        c = row.candidate
        assert c.attempt_ends_at is not None
        await self.logic._move(t, c, s, State.FINISHED, c.attempt_ends_at, ev.SYSTEM, "EXAM_ENDED")
        SWEEP_ACTIONS.labels("finished").inc()

    async def _abandon(self, t: Tx, s: Sitting, row: store.CandidateRow, now: datetime) -> None:
        c = row.candidate
        since = row.desktop_offline_since
        assert since is not None
        moved = await self.logic._move(t, c, s, State.ABANDONED, now, ev.SYSTEM, "LEFT_BEFORE_END",
                                       zero_score=True, zero_score_reason=ZERO_SCORE_POLICY)
        event = ev.session_event(moved, s, now, to_state=State.ABANDONED, version=moved.state_version,
                                 actor=ev.SYSTEM, reason=ZERO_SCORE_POLICY,
                                 kind=session_pb2.SESSION_EVENT_KIND_ZERO_SCORE_RECORDED)
        event.abandon.last_heartbeat_at.CopyFrom(ev.ts(since))
        event.abandon.grace.FromTimedelta(s.policy.abandon_grace)
        event.abandon.zero_score = True
        event.abandon.policy = ZERO_SCORE_POLICY
        t.emit(topics.SESSION_EVENTS.name, c.candidate_id, event)
        t.emit(topics.INCIDENTS.name, c.candidate_id, ev.session_incident(
            moved, now, kind=common_pb2.INCIDENT_KIND_ABANDONED, severity=common_pb2.SEVERITY_HIGH,
            start=since, end=now, summary_en="left the exam before the end and did not come back; "
            "zero-score policy recorded", summary_zh="考试结束前离开且未返回，按零分处理"))
        SWEEP_ACTIONS.labels("abandoned").inc()

    async def _gauges(self, sittings: list[str]) -> None:
        self._last_gauges = time.monotonic()
        async with self.logic.pool.connection() as conn:
            for sitting_id in sittings:
                counts = await store.room_counts(conn, sitting_id)
                totals: dict[int, int] = {}
                for states in counts.values():
                    for state, n in states.items():
                        totals[state] = totals.get(state, 0) + n
                for state in State:
                    CANDIDATES_BY_STATE.labels(sitting_id, state.name).set(totals.get(int(state), 0))

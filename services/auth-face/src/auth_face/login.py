"""Face login: a random ordered liveness challenge, then the frames captured while following it are
checked (one face, no mask, liveness in order, the template matches) and a session token is issued
under the single-active-login rule. Failed attempts are counted; after N the candidate is queued
for manual review."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from auth_face import access, convert, domain, events, media, metrics, store
from auth_face.core import Core, Issued, new_id, review_gate
from auth_face.domain import LoginAnalysis, LoginFailure, Origin, Step, StepOutcome
from auth_face.enrolment import pack_mismatch, pack_ref
from proctor.auth.v1 import auth_face_pb2 as pb
from proctor_faces.liveness import random_challenge
from proctor_runtime.errors import FailedPrecondition, InvalidArgument, NotFound
from proctor_runtime.events import ts

log = logging.getLogger(__name__)
STEP_MIN_S, STEP_MAX_S = 0.3, 5.0
Frames = list[tuple[float, np.ndarray]]


def default_challenge(moves: int) -> Callable[[], list[Step]]:
    return lambda: [Step(s.value) for s in random_challenge(moves)]


class Logins:
    def __init__(self, core: Core, challenge: Callable[[], list[Step]] | None = None) -> None:
        self.core = core
        self.challenge = challenge or default_challenge(core.settings.challenge_moves)

    # --- challenge -------------------------------------------------------------------------------------
    async def start(self, req: pb.StartLivenessChallengeRequest, peer: str) -> pb.LivenessChallenge:
        core, s = self.core, self.core.settings
        sitting_id = domain.required(req.sitting_id, "sitting_id")
        candidate_id = domain.required(req.candidate_id, "candidate_id")
        device_id = domain.required(req.device.device_id, "device.device_id")
        core.limit_prelogin("challenge", sitting_id, candidate_id, peer)
        pack = core.inference.require()
        now = core.clock()
        steps = self.challenge()
        row = store.ChallengeRow(challenge_id=new_id("chl"), sitting_id=sitting_id, candidate_id=candidate_id,
                                 device_id=device_id, steps=[str(x) for x in steps], issued_at=now,
                                 expires_at=now + timedelta(seconds=s.challenge_ttl_s), used_at=None, outcome="",
                                 client_address=peer)
        async with core.tx() as t:
            template = await store.get_template(t.conn, sitting_id, candidate_id)
            if template is None:
                raise NotFound("CANDIDATE_NOT_ENROLLED", "no face template for this candidate: contact the exam "
                               "staff", "未找到您的人脸信息，请联系考务人员", {"candidate_id": candidate_id})
            if template.template_tag != pack.template_tag():
                raise pack_mismatch(template.template_tag, pack.template_tag())
            state = await store.lock_candidate(t.conn, sitting_id, candidate_id)
            review_gate(state, await store.get_review(t.conn, state.review_id) if state.review_id else None)
            await store.insert_challenge(t.conn, row)
        return pb.LivenessChallenge(
            challenge_id=row.challenge_id, expires_at=ts(row.expires_at), server_time=ts(now),
            steps=[convert.step_proto(i, x, STEP_MIN_S, STEP_MAX_S) for i, x in enumerate(steps)],
            min_frames=s.min_frames, max_frames=s.max_frames, target_fps=s.target_fps, frame_width=s.frame_width,
            frame_height=s.frame_height)

    # --- login -----------------------------------------------------------------------------------------
    async def verify(self, req: pb.VerifyLoginRequest, peer: str) -> pb.VerifyLoginResponse:
        core = self.core
        challenge_id = domain.required(req.challenge_id, "challenge_id")
        sitting_id = domain.required(req.sitting_id, "sitting_id")
        candidate_id = domain.required(req.candidate_id, "candidate_id")
        device_id = domain.required(req.device.device_id, "device.device_id")
        core.limit_prelogin("login", sitting_id, candidate_id, peer)
        pack = core.inference.require()
        self._check_media(req)
        async with core.pool.connection() as conn:  # cheap refusals before any decoding
            check_challenge(await store.get_challenge(conn, challenge_id), sitting_id, candidate_id, device_id,
                            core.clock())
            state = await store.get_login_state(conn, sitting_id, candidate_id)
            if state is not None and state.review_id:
                review_gate(state, await store.get_review(conn, state.review_id))
        frames = await core.inference.run(self._decode, req)
        ch, template = await self._claim(challenge_id, sitting_id, candidate_id, device_id, peer)
        steps = [Step(x) for x in ch.steps]
        analysis = await self._analyse(steps, frames, template, ch)
        failures = domain.login_failures(analysis)
        out = pb.VerifyLoginResponse(verified=not failures, failures=[convert.failure(f) for f in failures],
                                     liveness=liveness_proto(analysis), model_pack=pack_ref(pack))
        if analysis.match is not None:
            out.match.CopyFrom(convert.match(analysis.match))
        if failures:
            await self._failed(ch, failures, analysis, peer, out)
        else:
            await self._verified(ch, analysis, peer, out)
        return out

    def _check_media(self, req: pb.VerifyLoginRequest) -> None:
        s = self.core.settings
        kind = req.WhichOneof("media")
        if kind is None:
            raise InvalidArgument("FIELD_REQUIRED", "send the captured frames or a clip", "缺少采集的画面",
                                  {"field": "media"})
        if kind == "frames":
            frames = req.frames.frames
            if len(frames) > s.max_frames:
                raise InvalidArgument("TOO_MANY_FRAMES", f"{len(frames)} frames; at most {s.max_frames}",
                                      f"画面数量过多（最多 {s.max_frames} 张）", {"max_frames": str(s.max_frames)})
            total = sum(len(f.jpeg) for f in frames)
            if total > s.max_media_bytes:
                raise media.too_many_bytes("frames", total, s.max_media_bytes)
            for i, f in enumerate(frames):
                if not f.HasField("capture_time"):
                    raise InvalidArgument("FIELD_REQUIRED", f"frames[{i}].capture_time is required", "缺少采集时间",
                                          {"field": f"frames.frames[{i}].capture_time"})

    def _decode(self, req: pb.VerifyLoginRequest) -> Frames:
        """On the inference thread: every frame (or the clip) decoded under the limits."""
        with metrics.timed("login", "decode"):
            return self._decode_media(req)

    def _decode_media(self, req: pb.VerifyLoginRequest) -> Frames:
        s = self.core.settings
        limits = media.Limits(s.max_media_bytes, s.max_frame_pixels)
        if req.WhichOneof("media") == "clip":
            return media.decode_clip(req.clip.data, req.clip.format.mime_type, limits, s.max_frames, s.target_fps)
        frames = req.frames.frames
        if not frames:
            return []
        t0 = frames[0].capture_time.ToDatetime(UTC)
        return [((f.capture_time.ToDatetime(UTC) - t0).total_seconds(),
                 media.decode_image(f.jpeg, limits, f"frames.frames[{i}].jpeg")) for i, f in enumerate(frames)]

    async def _claim(self, challenge_id: str, sitting_id: str, candidate_id: str, device_id: str,
                     peer: str) -> tuple[store.ChallengeRow, np.ndarray]:
        """Single use: claim the challenge, unless another device holds an active session (refused,
        reported as an incident, and the challenge is spent)."""
        core = self.core
        now = core.clock()
        refused: store.SessionRow | None = None
        async with core.tx() as t:
            state = await store.lock_candidate(t.conn, sitting_id, candidate_id)
            ch = check_challenge(await store.get_challenge(t.conn, challenge_id, lock=True), sitting_id,
                                 candidate_id, device_id, now)
            review_gate(state, await store.get_review(t.conn, state.review_id) if state.review_id else None)
            found = await core.load_template(t.conn, sitting_id, candidate_id)
            if found is None:
                raise NotFound("CANDIDATE_NOT_ENROLLED", "no face template for this candidate: contact the exam "
                               "staff", "未找到您的人脸信息，请联系考务人员", {"candidate_id": candidate_id})
            refused = await core.other_device(t, sitting_id, candidate_id, device_id, now)
            await store.use_challenge(t.conn, challenge_id, now, "refused_other_device" if refused else "analysing")
            if refused is not None:
                await core.refuse_second_device(t, refused, device_id, now, peer, "auth.login")
        if refused is not None:
            raise domain.active_elsewhere(refused.session_id, refused.device_id)
        return ch, found[1]

    async def _analyse(self, steps: list[Step], frames: Frames, template: np.ndarray,
                       ch: store.ChallengeRow) -> LoginAnalysis:
        s = self.core.settings
        missed = [StepOutcome(x, False) for x in steps]
        if len(frames) < s.min_frames:
            return LoginAnalysis(len(frames), ["TOO_FEW_FRAMES"], missed, None)
        span = frames[-1][0] - frames[0][0]
        age = (self.core.clock() - ch.issued_at).total_seconds()
        if span > age + s.capture_span_tolerance_s:
            return LoginAnalysis(len(frames), ["CAPTURE_SPAN"], missed, None)
        return await self.core.inference.run(self.core.inference.analyse_login, steps, frames, template)

    async def _verified(self, ch: store.ChallengeRow, analysis: LoginAnalysis, peer: str,
                        out: pb.VerifyLoginResponse) -> None:
        core = self.core
        now = core.clock()
        refused: store.SessionRow | None = None
        issued: Issued | None = None
        async with core.tx() as t:
            state = await store.lock_candidate(t.conn, ch.sitting_id, ch.candidate_id)
            refused = await core.other_device(t, ch.sitting_id, ch.candidate_id, ch.device_id, now)
            if refused is not None:  # another device logged in while this attempt was analysed
                await store.set_challenge_outcome(t.conn, ch.challenge_id, "refused_other_device")
                await core.refuse_second_device(t, refused, ch.device_id, now, peer, "auth.login")
            else:
                issued = await core.open_session(t, ch.sitting_id, ch.candidate_id, ch.device_id,
                                                 Origin.FACE_LOGIN, now)
                state.failed_attempts, state.last_failures = 0, None
                await store.save_login_state(t.conn, state)
                await store.set_challenge_outcome(t.conn, ch.challenge_id, "verified")
                dist = analysis.match.distance if analysis.match else None
                t.audit(events.audit_event(
                    access.candidate_actor(ch.candidate_id), "auth.login", ch.sitting_id, ch.candidate_id, now,
                    client_address=peer, device_id=ch.device_id, session_id=issued.session.session_id,
                    attributes={"challenge_id": ch.challenge_id, "distance": f"{dist:.4f}" if dist is not None else "",
                                "replaced_session_id": issued.replaced_session_id, "frames": str(analysis.frames)}),
                    ch.candidate_id)
        if refused is not None:
            raise domain.active_elsewhere(refused.session_id, refused.device_id)
        assert issued is not None
        metrics.LOGINS.labels("verified").inc()
        out.session_token, out.session_id = issued.token, issued.session.session_id
        out.expires_at.CopyFrom(ts(issued.session.expires_at))
        out.replaced_session_id = issued.replaced_session_id
        out.attempts_remaining = core.settings.max_failed_attempts

    async def _failed(self, ch: store.ChallengeRow, failures: Sequence[LoginFailure], analysis: LoginAnalysis,
                      peer: str, out: pb.VerifyLoginResponse) -> None:
        core = self.core
        limit = core.settings.max_failed_attempts
        now = core.clock()
        async with core.tx() as t:
            state = await store.lock_candidate(t.conn, ch.sitting_id, ch.candidate_id)
            state.failed_attempts += 1
            state.last_failures = convert.failures_blob(failures)
            if state.failed_attempts >= limit and not state.review_id:
                state.review_id = new_id("rev")
                room = await store.room_of(t.conn, ch.sitting_id, ch.candidate_id) or ""
                await store.insert_review(t.conn, state.review_id, ch.sitting_id, ch.candidate_id, room,
                                          int(domain.ReviewStatus.PENDING), now, state.failed_attempts,
                                          state.last_failures)
                out.manual_review_id = state.review_id
                metrics.MANUAL_REVIEWS.labels("opened").inc()
            await store.save_login_state(t.conn, state)
            await store.set_challenge_outcome(t.conn, ch.challenge_id, "failed")
            t.audit(events.audit_event(
                access.candidate_actor(ch.candidate_id), "auth.login", ch.sitting_id, ch.candidate_id, now,
                outcome=events.FAILURE, outcome_reason=failures[0].reason.value, client_address=peer,
                device_id=ch.device_id, attributes={
                    "challenge_id": ch.challenge_id, "failures": ",".join(f.reason.value for f in failures),
                    "liveness": ",".join(analysis.liveness_reasons), "failed_attempts": str(state.failed_attempts),
                    "review_id": out.manual_review_id}), ch.candidate_id)
        out.attempts_remaining = max(0, limit - state.failed_attempts)
        metrics.LOGINS.labels("failed").inc()
        metrics.LOGIN_FAILURES.labels(failures[0].reason.value).inc()
        for reason in {r.split(":")[0] for r in analysis.liveness_reasons}:
            metrics.LIVENESS_FAILURES.labels(reason).inc()


def check_challenge(ch: store.ChallengeRow | None, sitting_id: str, candidate_id: str, device_id: str,
                    now: datetime) -> store.ChallengeRow:
    if ch is None:
        raise NotFound("CHALLENGE_NOT_FOUND", "unknown challenge: start a new one", "验证挑战不存在，请重新开始")
    if (ch.sitting_id, ch.candidate_id) != (sitting_id, candidate_id):
        raise InvalidArgument("CHALLENGE_MISMATCH", "this challenge was issued to another candidate",
                              "该验证挑战不属于您", {"field": "challenge_id"})
    if ch.device_id != device_id:
        raise InvalidArgument("CHALLENGE_MISMATCH", "this challenge was issued to another device",
                              "该验证挑战不是发给此设备的", {"field": "device.device_id"})
    if ch.used_at is not None and ch.outcome == "superseded":
        raise FailedPrecondition("CHALLENGE_EXPIRED", "a newer challenge replaced this one: use the latest",
                                 "验证挑战已被新的挑战取代，请使用最新的", {"superseded": "true"})
    if ch.used_at is not None:
        raise FailedPrecondition("CHALLENGE_USED", "this challenge was already answered: start a new one",
                                 "验证挑战已使用，请重新开始")
    if now >= ch.expires_at:
        raise FailedPrecondition("CHALLENGE_EXPIRED", "the challenge has expired: start a new one",
                                 "验证挑战已过期，请重新开始", {"expired_at": ch.expires_at.isoformat()})
    return ch


def liveness_proto(a: LoginAnalysis) -> pb.LivenessResult:
    steps = [pb.StepResult(index=i, action=convert.action(o.step), passed=o.passed, score=1.0 if o.passed else 0.0)
             for i, o in enumerate(a.steps)]
    passed = sum(1 for o in a.steps if o.passed)
    return pb.LivenessResult(passed=a.liveness_passed, steps=steps,
                             score=passed / len(a.steps) if a.steps and not a.liveness_reasons else 0.0)

"""Protobuf <-> domain translation for exam-session (no rules here)."""

from __future__ import annotations

from datetime import datetime, timedelta

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from exam_session.domain import (
    Answer,
    Candidate,
    Gate,
    Kind,
    Policy,
    QType,
    Question,
    Sitting,
    State,
    Timeline,
)
from proctor.common.v1 import common_pb2
from proctor.exam.v1 import exam_session_pb2 as pb
from proctor_runtime.errors import InvalidArgument
from proctor_runtime.events import from_ts, ts

DEFAULT_TZ = "Asia/Shanghai"


def _required_ts(value: Timestamp, has: bool, name: str) -> datetime:
    if not has:
        raise InvalidArgument("FIELD_REQUIRED", f"{name} is required", f"缺少 {name}", {"field": name})
    return from_ts(value)


def _duration(value: Duration, has: bool, default: timedelta | None) -> timedelta | None:
    return value.ToTimedelta() if has else default


def sitting_from_proto(p: pb.Sitting) -> Sitting:
    t = p.timeline
    names = ["login_opens", "waiting_room_opens", "start", "last_entry", "end", "upload_deadline"]
    times = [_required_ts(getattr(t, n), p.HasField("timeline") and t.HasField(n), f"timeline.{n}")
             for n in names]
    if p.kind not in (common_pb2.SITTING_KIND_FORMAL, common_pb2.SITTING_KIND_MOCK):
        raise InvalidArgument("FIELD_INVALID", "kind must be FORMAL or MOCK", "考试类型无效",
                              {"field": "sitting.kind"})
    kind = Kind(p.kind)
    questions = []
    for i, q in enumerate(p.questions):
        if q.type not in (1, 2, 3, 4):
            raise InvalidArgument("FIELD_INVALID", f"question {q.question_id!r} has no valid type",
                                  "题型无效", {"field": f"sitting.questions[{i}].type"})
        questions.append(Question(q.question_id, QType(q.type), i, tuple(q.option_ids),
                                  q.blank_count, q.max_answer_bytes))
    pol = p.policy
    defaults = Policy()
    limit = pol.attempt_limit or (3 if kind == Kind.MOCK else 1)
    policy = Policy(
        attempt_limit=limit,
        attempt_duration=_duration(pol.attempt_duration, pol.HasField("attempt_duration"), None),
        heartbeat_interval=_duration(pol.heartbeat_interval, pol.HasField("heartbeat_interval"),
                                     defaults.heartbeat_interval) or defaults.heartbeat_interval,
        abandon_grace=_duration(pol.abandon_grace, pol.HasField("abandon_grace"),
                                defaults.abandon_grace) or defaults.abandon_grace,
        clock_skew_tolerance=_duration(pol.clock_skew_tolerance, pol.HasField("clock_skew_tolerance"),
                                       defaults.clock_skew_tolerance) or defaults.clock_skew_tolerance,
        max_answer_bytes=pol.max_answer_bytes or defaults.max_answer_bytes,
        require_phone=pol.require_phone if p.HasField("policy") else True,
        require_room_scan=pol.require_room_scan if p.HasField("policy") else True,
        bind_code_validity=_duration(pol.bind_code_validity, pol.HasField("bind_code_validity"),
                                     defaults.bind_code_validity) or defaults.bind_code_validity,
    )
    return Sitting(p.sitting_id, kind, Timeline(*times), tuple(questions), policy, p.name,
                   p.time_zone or DEFAULT_TZ)


def normalised_spec(p: pb.Sitting, s: Sitting) -> pb.Sitting:
    """The stored form: defaults filled in, positions set, server fields cleared."""
    out = pb.Sitting()
    out.CopyFrom(p)
    out.ClearField("created_at")
    out.ClearField("server_time")
    out.time_zone = s.time_zone
    out.question_count = len(s.questions)
    out.policy.attempt_limit = s.policy.attempt_limit
    out.policy.max_answer_bytes = s.policy.max_answer_bytes
    out.policy.heartbeat_interval.FromTimedelta(s.policy.heartbeat_interval)
    out.policy.abandon_grace.FromTimedelta(s.policy.abandon_grace)
    out.policy.clock_skew_tolerance.FromTimedelta(s.policy.clock_skew_tolerance)
    out.policy.bind_code_validity.FromTimedelta(s.policy.bind_code_validity)
    out.policy.require_phone = s.policy.require_phone
    out.policy.require_room_scan = s.policy.require_room_scan
    for i, q in enumerate(out.questions):
        q.position = i
    return out


def candidate_view(p: pb.Sitting) -> pb.Sitting:
    """What a candidate or phone may see of a sitting: no question list."""
    out = pb.Sitting()
    out.CopyFrom(p)
    del out.questions[:]
    return out


def answer_from_proto(p: pb.AnswerPayload) -> tuple[Answer, bytes | None]:
    which = p.WhichOneof("value")
    raw = p.SerializeToString() if which else None
    if which is None:
        return Answer(None), None
    if which == "single_choice":
        return Answer(QType.SINGLE_CHOICE, single=p.single_choice), raw
    if which == "multiple_choice":
        return Answer(QType.MULTIPLE_CHOICE, multiple=tuple(p.multiple_choice.option_ids)), raw
    if which == "fill_in":
        return Answer(QType.FILL_IN, blanks=tuple(p.fill_in.blanks)), raw
    return Answer(QType.ESSAY, essay=p.essay), raw


def answer_to_proto(raw: bytes | None) -> pb.AnswerPayload:
    return pb.AnswerPayload.FromString(raw) if raw else pb.AnswerPayload()


def timeline_proto(t: Timeline) -> pb.Timeline:
    return pb.Timeline(login_opens=ts(t.login_opens), waiting_room_opens=ts(t.waiting_room_opens),
                       start=ts(t.start), last_entry=ts(t.last_entry), end=ts(t.end),
                       upload_deadline=ts(t.upload_deadline))


def question_proto(q: Question) -> pb.Question:
    return pb.Question(question_id=q.question_id, type=int(q.qtype), position=q.position,
                       option_ids=list(q.option_ids), blank_count=q.blank_count,
                       max_answer_bytes=q.max_answer_bytes)


def _online(last_seen: datetime | None, now: datetime, grace: timedelta) -> bool:
    return last_seen is not None and now - last_seen <= grace


def snapshot(c: Candidate, s: Sitting, now: datetime) -> common_pb2.CandidateSnapshot:
    out = common_pb2.CandidateSnapshot(
        sitting_id=c.sitting_id, candidate_id=c.candidate_id, room_id=c.room_id,
        display_name=c.display_name, state=int(c.state), state_since=ts(c.state_since),
        attempt_number=c.attempt_number,
        desktop_online=_online(c.desktop_last_seen, now, s.policy.abandon_grace),
        phone_online=_online(c.phone_last_seen, now, s.policy.abandon_grace),
        phone_bound=bool(c.phone_device_id), current_question_index=c.current_index,
        question_count=len(s.questions), zero_score=c.zero_score)
    if c.desktop_last_seen:
        out.desktop_last_seen.CopyFrom(ts(c.desktop_last_seen))
    if c.phone_last_seen:
        out.phone_last_seen.CopyFrom(ts(c.phone_last_seen))
    return out


def gate_proto(g: Gate) -> pb.Gate:
    out = pb.Gate(allowed=g.allowed, blocked_reason=g.reason)
    if g.opens_at:
        out.opens_at.CopyFrom(ts(g.opens_at))
    if g.closes_at:
        out.closes_at.CopyFrom(ts(g.closes_at))
    if not g.allowed:
        out.blocked_message.CopyFrom(common_pb2.LocalizedText(en=g.message_en, zh=g.message_zh))
    return out


STATUS_TEXT = {
    State.REGISTERED: ("Log in with your face from the login opening time.", "请在登录开放后进行人脸登录。"),
    State.LOGGED_IN: ("Bind your phone: scan the QR code with the phone app.",
                      "请用手机App扫描二维码绑定手机。"),
    State.PHONE_BOUND: ("Record the 360° room scan with your phone.", "请用手机完成360°环境检查录像。"),
    State.ROOM_SCANNED: ("Fix the phone in place and enter the waiting room.", "请固定手机并进入候考室。"),
    State.WAITING: ("Wait for the start, then enter the exam.", "请等待考试开始后进入考试。"),
    State.IN_EXAM: ("Answer the questions in order; a passed question is locked.",
                    "请按顺序作答，跳过的题目将被锁定。"),
    State.FINISHED: ("The exam is over. Keep the client open until the upload completes.",
                     "考试已结束，请保持客户端开启直到上传完成。"),
    State.UPLOADED: ("Upload complete. You may close the client.", "上传成功，可以关闭客户端。"),
    State.ABSENT: ("You did not enter before the last entry time.", "您未在截止进入时间前进入考试。"),
    State.ABANDONED: ("You left the exam before the end.", "您在考试结束前离开了考试系统。"),
}


def status(c: Candidate, s: Sitting, now: datetime, gates: dict[str, Gate]) -> pb.CandidateStatus:
    en, zh = STATUS_TEXT[c.state]
    timeline = s.timeline
    out = pb.CandidateStatus(
        candidate=snapshot(c, s, now), sitting_kind=int(s.kind), timeline=timeline_proto(timeline),
        server_time=ts(now), attempts_used=c.attempt_number, attempt_limit=s.policy.attempt_limit,
        login_gate=gate_proto(gates["login"]), waiting_room_gate=gate_proto(gates["waiting"]),
        entry_gate=gate_proto(gates["entry"]), finish_gate=gate_proto(gates["finish"]),
        status_message=common_pb2.LocalizedText(en=en, zh=zh),
        bound_phone_device_id=c.phone_device_id, zero_score_reason=c.zero_score_reason)
    if c.attempt_ends_at and c.attempt_ends_at != timeline.end:
        out.timeline.end.CopyFrom(ts(c.attempt_ends_at))
    out.upload.complete = c.upload_complete
    out.upload.upload_deadline.CopyFrom(ts(timeline.upload_deadline))
    return out

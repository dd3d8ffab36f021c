"""The rules of a sitting: timeline, candidate state machine, answering, offline sync.

Pure functions of (sitting, candidate, now): no I/O, no grpc, no kafka, no protobuf. Every refusal
is a ``DomainError`` with a machine reason and zh-CN + English texts; the transport maps it to a
gRPC status. Time is always passed in (server time, UTC), so tests move the clock freely.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import IntEnum

from proctor_runtime.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    OutOfRange,
)


class State(IntEnum):
    """Same numbers as ``proctor.common.v1.CandidateState`` (checked by a test)."""

    REGISTERED = 1
    LOGGED_IN = 2
    PHONE_BOUND = 3
    ROOM_SCANNED = 4
    WAITING = 5
    IN_EXAM = 6
    FINISHED = 7
    UPLOADED = 8
    ABSENT = 9
    ABANDONED = 10


class Kind(IntEnum):
    FORMAL = 1
    MOCK = 2


class QType(IntEnum):
    SINGLE_CHOICE = 1
    MULTIPLE_CHOICE = 2
    FILL_IN = 3
    ESSAY = 4


BEFORE_ENTRY = frozenset({State.REGISTERED, State.LOGGED_IN, State.PHONE_BOUND,
                          State.ROOM_SCANNED, State.WAITING})
AFTER_EXAM = frozenset({State.FINISHED, State.UPLOADED})
TERMINAL = frozenset({State.UPLOADED, State.ABSENT, State.ABANDONED})


def _fmt(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Timeline:
    login_opens: datetime
    waiting_room_opens: datetime
    start: datetime
    last_entry: datetime
    end: datetime
    upload_deadline: datetime

    def validate(self) -> None:
        order = [("login_opens", self.login_opens), ("waiting_room_opens", self.waiting_room_opens),
                 ("start", self.start), ("last_entry", self.last_entry), ("end", self.end),
                 ("upload_deadline", self.upload_deadline)]
        for name, value in order:
            if value.tzinfo is None:
                raise InvalidArgument("FIELD_INVALID", f"timeline.{name} must carry a time zone",
                                      f"时间线 {name} 缺少时区", {"field": f"timeline.{name}"})
        for (a_name, a), (b_name, b) in itertools.pairwise(order):
            if a > b:
                raise InvalidArgument(
                    "TIMELINE_ORDER", f"timeline.{a_name} ({_iso(a)}) must not be after "
                    f"timeline.{b_name} ({_iso(b)})", f"时间线顺序错误：{a_name} 晚于 {b_name}",
                    {"field": f"timeline.{a_name}"})
        if self.start >= self.end:
            raise InvalidArgument("TIMELINE_ORDER", "the exam must last: start must be before end",
                                  "考试开始时间必须早于结束时间", {"field": "timeline.end"})
        if self.last_entry >= self.end:
            raise InvalidArgument("TIMELINE_ORDER", "last entry must be before the end",
                                  "截止进入时间必须早于考试结束时间", {"field": "timeline.last_entry"})


@dataclass(frozen=True)
class Question:
    question_id: str
    qtype: QType
    position: int
    option_ids: tuple[str, ...] = ()
    blank_count: int = 0
    max_answer_bytes: int = 0


@dataclass(frozen=True)
class Policy:
    attempt_limit: int = 1
    attempt_duration: timedelta | None = None
    heartbeat_interval: timedelta = timedelta(seconds=10)
    abandon_grace: timedelta = timedelta(seconds=90)
    clock_skew_tolerance: timedelta = timedelta(seconds=60)
    max_answer_bytes: int = 64 * 1024
    require_phone: bool = True
    require_room_scan: bool = True
    bind_code_validity: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class Sitting:
    sitting_id: str
    kind: Kind
    timeline: Timeline
    questions: tuple[Question, ...]
    policy: Policy
    name: str = ""
    time_zone: str = "Asia/Shanghai"

    def validate(self) -> None:
        if not self.sitting_id:
            raise InvalidArgument("FIELD_REQUIRED", "sitting_id is required", "缺少考试场次编号",
                                  {"field": "sitting.sitting_id"})
        self.timeline.validate()
        if not self.questions:
            raise InvalidArgument("QUESTIONS_EMPTY", "a sitting needs at least one question",
                                  "考试至少需要一道题", {"field": "sitting.questions"})
        seen: set[str] = set()
        for q in self.questions:
            if not q.question_id:
                raise InvalidArgument("FIELD_REQUIRED", "every question needs a question_id",
                                      "题目缺少编号", {"field": "sitting.questions"})
            if q.question_id in seen:
                raise InvalidArgument("DUPLICATE_QUESTION_ID",
                                      f"question id {q.question_id!r} appears twice",
                                      f"题目编号 {q.question_id} 重复", {"field": "sitting.questions"})
            seen.add(q.question_id)
        if self.policy.attempt_limit < 1:
            raise InvalidArgument("FIELD_INVALID", "attempt_limit must be at least 1",
                                  "尝试次数上限至少为 1", {"field": "sitting.policy.attempt_limit"})

    def question_index(self, question_id: str) -> int:
        for i, q in enumerate(self.questions):
            if q.question_id == question_id:
                return i
        raise NotFound("QUESTION_NOT_FOUND", f"no question {question_id!r} in this sitting",
                       "题目不存在", {"question_id": question_id})

    def max_bytes(self, question: Question) -> int:
        return question.max_answer_bytes or self.policy.max_answer_bytes


@dataclass(frozen=True)
class Candidate:
    """The persisted state of one candidate (one row)."""

    sitting_id: str
    candidate_id: str
    state: State
    state_since: datetime
    state_version: int = 1
    room_id: str = ""
    display_name: str = ""
    attempt_number: int = 0
    current_index: int = 0
    attempt_ends_at: datetime | None = None
    desktop_device_id: str = ""
    desktop_token_iat: int = 0
    phone_device_id: str = ""
    room_scanned: bool = False
    upload_complete: bool = False
    desktop_last_seen: datetime | None = None
    phone_last_seen: datetime | None = None
    clock_offset_ms: int = 0
    zero_score: bool = False
    zero_score_reason: str = ""
    extra: dict[str, str] = field(default_factory=dict)


# --- errors a candidate reads -------------------------------------------------------------------

def wrong_state(c: Candidate, wanted: str) -> FailedPrecondition:
    return FailedPrecondition("WRONG_STATE", f"not possible in state {c.state.name}: {wanted}",
                              f"当前状态（{c.state.name}）下无法执行该操作", {"state": c.state.name})


def _entry_closed(s: Sitting) -> FailedPrecondition:
    closes = s.timeline.last_entry
    return FailedPrecondition("ENTRY_CLOSED", f"entry closed at {_fmt(closes)}",
                              f"截止进入时间已过（{_fmt(closes)}）", {"closes_at": _iso(closes)})


# --- login, binding, waiting, entering ----------------------------------------------------------

@dataclass(frozen=True)
class LoginDecision:
    new_attempt: bool
    to_state: State


def decide_login(s: Sitting, c: Candidate, now: datetime) -> LoginDecision:
    t = s.timeline
    if now < t.login_opens:
        raise FailedPrecondition(
            "LOGIN_NOT_OPEN", f"face login opens at {_fmt(t.login_opens)}",
            f"人脸登录尚未开放，开放时间 {_fmt(t.login_opens)}", {"opens_at": _iso(t.login_opens)})
    if now >= t.end:
        raise FailedPrecondition("SITTING_CLOSED", "this sitting has ended", "本场考试已结束",
                                 {"ended_at": _iso(t.end)})
    if c.state == State.ABSENT:
        raise _entry_closed(s)
    if c.state == State.ABANDONED:
        raise wrong_state(c, "log in")
    if c.state == State.REGISTERED:
        if now > t.last_entry:
            raise _entry_closed(s)
        return LoginDecision(new_attempt=True, to_state=State.LOGGED_IN)
    if c.state in AFTER_EXAM:
        if s.kind != Kind.MOCK:
            raise wrong_state(c, "log in after the exam")
        if c.attempt_number >= s.policy.attempt_limit:
            raise FailedPrecondition(
                "ATTEMPT_LIMIT_REACHED",
                f"all {s.policy.attempt_limit} mock attempts of this window are used",
                f"本窗口的 {s.policy.attempt_limit} 次模拟考试机会已用完",
                {"attempt_limit": str(s.policy.attempt_limit)})
        if now > t.last_entry:
            raise _entry_closed(s)
        return LoginDecision(new_attempt=True, to_state=State.LOGGED_IN)
    # logged in already (client restart or a new device allowed by auth-face): same attempt
    return LoginDecision(new_attempt=False, to_state=c.state)


def check_bind(s: Sitting, c: Candidate, now: datetime) -> None:
    if c.state in BEFORE_ENTRY - {State.REGISTERED} or c.state == State.IN_EXAM:
        if now >= s.timeline.end:
            raise FailedPrecondition("SITTING_CLOSED", "this sitting has ended", "本场考试已结束")
        return
    raise wrong_state(c, "bind a phone")


def after_phone_bound(s: Sitting, c: Candidate) -> State:
    """The state a first phone binding moves to (a re-bind keeps the state)."""
    if c.state != State.LOGGED_IN:
        return c.state
    if c.room_scanned or not s.policy.require_room_scan:
        return State.ROOM_SCANNED
    return State.PHONE_BOUND


def after_room_scan(c: Candidate) -> State | None:
    """The room scan recording exists: PHONE_BOUND -> ROOM_SCANNED; otherwise just remembered."""
    return State.ROOM_SCANNED if c.state == State.PHONE_BOUND else None


def _ready_for_waiting(s: Sitting, c: Candidate) -> None:
    if c.state == State.LOGGED_IN and s.policy.require_phone:
        raise FailedPrecondition("PHONE_NOT_BOUND", "bind your phone first (scan the QR code)",
                                 "请先绑定手机（扫描二维码）")
    if c.state in (State.LOGGED_IN, State.PHONE_BOUND) and s.policy.require_room_scan \
            and not c.room_scanned:
        raise FailedPrecondition("ROOM_SCAN_MISSING", "record the 360° room scan with your phone first",
                                 "请先用手机完成 360° 环境检查录像")


def decide_waiting(s: Sitting, c: Candidate, now: datetime) -> State:
    if c.state in (State.WAITING, State.IN_EXAM):
        return c.state
    if c.state not in BEFORE_ENTRY or c.state == State.REGISTERED:
        raise wrong_state(c, "enter the waiting room")
    _ready_for_waiting(s, c)
    t = s.timeline
    if now > t.last_entry:
        raise _entry_closed(s)
    if now < t.waiting_room_opens:
        raise FailedPrecondition(
            "WAITING_ROOM_NOT_OPEN", f"the waiting room opens at {_fmt(t.waiting_room_opens)}",
            f"候考室尚未开放，开放时间 {_fmt(t.waiting_room_opens)}",
            {"opens_at": _iso(t.waiting_room_opens)})
    return State.WAITING


@dataclass(frozen=True)
class EnterDecision:
    already_in: bool
    attempt_ends_at: datetime


def decide_enter(s: Sitting, c: Candidate, now: datetime) -> EnterDecision:
    t = s.timeline
    if c.state == State.IN_EXAM:
        assert c.attempt_ends_at is not None
        return EnterDecision(already_in=True, attempt_ends_at=c.attempt_ends_at)
    if c.state not in BEFORE_ENTRY or c.state == State.REGISTERED:
        raise wrong_state(c, "enter the exam")
    _ready_for_waiting(s, c)
    if now > t.last_entry:
        raise _entry_closed(s)
    if now < t.start:
        raise FailedPrecondition("ENTRY_NOT_OPEN", f"the exam starts at {_fmt(t.start)}",
                                 f"考试尚未开始，开始时间 {_fmt(t.start)}", {"opens_at": _iso(t.start)})
    ends = t.end
    if s.kind == Kind.MOCK and s.policy.attempt_duration:
        ends = min(t.end, now + s.policy.attempt_duration)
    return EnterDecision(already_in=False, attempt_ends_at=ends)


# --- answering ----------------------------------------------------------------------------------

def check_answering(c: Candidate, now: datetime) -> None:
    if c.state != State.IN_EXAM:
        if c.state in AFTER_EXAM or c.state == State.ABANDONED:
            raise FailedPrecondition("EXAM_ENDED", "the exam has ended; answers are final",
                                     "考试已结束，答案已提交")
        raise FailedPrecondition("NOT_IN_EXAM", "enter the exam first", "请先进入考试",
                                 {"state": c.state.name})
    if c.attempt_ends_at is not None and now >= c.attempt_ends_at:
        raise FailedPrecondition("EXAM_ENDED", "the exam has ended; answers are final",
                                 "考试已结束，答案已提交", {"ended_at": _iso(c.attempt_ends_at)})


def check_current(s: Sitting, c: Candidate, question_id: str) -> Question:
    index = s.question_index(question_id)
    if index < c.current_index:
        raise FailedPrecondition("QUESTION_LOCKED", "this question is locked: you moved past it",
                                 "该题已锁定，无法查看或修改", {"question_id": question_id})
    if index > c.current_index:
        current = s.questions[c.current_index].question_id
        raise FailedPrecondition("QUESTION_NOT_CURRENT", "answer the questions in order",
                                 "请按顺序作答", {"current_question_id": current})
    return s.questions[index]


@dataclass(frozen=True)
class Answer:
    """An answer in domain terms; ``kind`` None means cleared."""

    kind: QType | None
    single: str = ""
    multiple: tuple[str, ...] = ()
    blanks: tuple[str, ...] = ()
    essay: str = ""


def validate_answer(s: Sitting, q: Question, answer: Answer, size: int) -> None:
    limit = s.max_bytes(q)
    if size > limit:
        raise InvalidArgument("ANSWER_TOO_LARGE", f"the answer is {size} bytes; at most {limit}",
                              f"答案过长（{size} 字节，上限 {limit}）", {"max_bytes": str(limit)})
    if answer.kind is None:
        return
    if answer.kind != q.qtype:
        raise InvalidArgument("ANSWER_TYPE_MISMATCH",
                              f"question {q.question_id} takes a {q.qtype.name.lower()} answer",
                              "答案类型与题型不符", {"question_id": q.question_id})
    options = set(q.option_ids)
    if answer.kind == QType.SINGLE_CHOICE and options and answer.single not in options:
        raise InvalidArgument("UNKNOWN_OPTION", f"no option {answer.single!r}", "选项不存在",
                              {"option_id": answer.single})
    if answer.kind == QType.MULTIPLE_CHOICE:
        if len(set(answer.multiple)) != len(answer.multiple):
            raise InvalidArgument("FIELD_INVALID", "an option is chosen twice", "选项重复",
                                  {"field": "answer.multiple_choice"})
        unknown = [o for o in answer.multiple if options and o not in options]
        if unknown:
            raise InvalidArgument("UNKNOWN_OPTION", f"no option {unknown[0]!r}", "选项不存在",
                                  {"option_id": unknown[0]})
    if answer.kind == QType.FILL_IN and q.blank_count and len(answer.blanks) > q.blank_count:
        raise InvalidArgument("FIELD_INVALID", f"this question has {q.blank_count} blanks",
                              f"该题只有 {q.blank_count} 个空", {"field": "answer.fill_in"})


def check_advance(s: Sitting, c: Candidate, from_question_id: str) -> int:
    """Returns the index of the next question (the current one gets locked)."""
    check_current(s, c, from_question_id)
    if c.current_index + 1 >= len(s.questions):
        raise OutOfRange("NO_NEXT_QUESTION", "this is the last question", "已经是最后一题")
    return c.current_index + 1


def check_finish(c: Candidate, now: datetime) -> bool:
    """True when the call must transition IN_EXAM -> FINISHED, False when already finished."""
    if c.state in AFTER_EXAM:
        return False
    if c.state != State.IN_EXAM:
        raise wrong_state(c, "finish")
    assert c.attempt_ends_at is not None
    if now < c.attempt_ends_at:
        raise FailedPrecondition(
            "EARLY_SUBMISSION_NOT_ALLOWED",
            f"no early submission: answers are collected at the end ({_fmt(c.attempt_ends_at)})",
            f"不允许提前交卷，答案将在考试结束时（{_fmt(c.attempt_ends_at)}）统一收取",
            {"ends_at": _iso(c.attempt_ends_at)})
    return True


# --- offline answers ------------------------------------------------------------------------------

@dataclass(frozen=True)
class OfflineOp:
    client_request_id: str
    sequence: int
    client_time: datetime
    question_id: str
    advance: bool  # False = save
    answer: Answer | None = None
    size: int = 0


@dataclass(frozen=True)
class OpOutcome:
    client_request_id: str
    outcome: str  # APPLIED | FLAGGED | REJECTED
    reason: str = ""
    new_index: int | None = None  # set for an applied advance


def check_sync_window(s: Sitting, c: Candidate, now: datetime) -> None:
    if c.state not in (State.IN_EXAM, State.FINISHED):
        raise wrong_state(c, "sync offline answers")
    if now > s.timeline.upload_deadline:
        raise FailedPrecondition("SYNC_WINDOW_CLOSED", "offline answers are accepted until the "
                                 f"upload deadline ({_fmt(s.timeline.upload_deadline)})",
                                 "离线答案的提交期限已过",
                                 {"closes_at": _iso(s.timeline.upload_deadline)})


def evaluate_offline(s: Sitting, c: Candidate, ops: Sequence[OfflineOp], offset: timedelta,
                     ) -> tuple[list[OpOutcome], int]:
    """Decide each op in client-sequence order; returns outcomes (input order) and the final index.

    An op applies when, corrected by the measured clock offset, it happened before the attempt's
    end (plus the skew tolerance) and respects the locking order from the current position.
    Otherwise it is FLAGGED (kept for review); an invalid op is REJECTED.
    """
    assert c.attempt_ends_at is not None
    limit = c.attempt_ends_at + s.policy.clock_skew_tolerance
    index = c.current_index
    decided: dict[str, OpOutcome] = {}
    last_sequence = -1
    for op in sorted(ops, key=lambda o: o.sequence):
        outcome = _evaluate_one(s, op, index, limit, last_sequence)
        last_sequence = max(last_sequence, op.sequence)
        if outcome.outcome == "APPLIED" and op.advance:
            index += 1
            outcome = replace(outcome, new_index=index)
        decided[op.client_request_id] = outcome
    return [decided[op.client_request_id] for op in ops], index


def _evaluate_one(s: Sitting, op: OfflineOp, index: int, limit: datetime,
                  last_sequence: int) -> OpOutcome:
    rid = op.client_request_id
    try:
        position = s.question_index(op.question_id)
        if op.answer is not None:
            validate_answer(s, s.questions[position], op.answer, op.size)
    except (NotFound, InvalidArgument) as exc:
        return OpOutcome(rid, "REJECTED", exc.reason)
    if op.sequence == last_sequence:
        return OpOutcome(rid, "REJECTED", "DUPLICATE_SEQUENCE")
    if op.client_time > limit:
        return OpOutcome(rid, "FLAGGED", "AFTER_END")
    if position < index:
        return OpOutcome(rid, "FLAGGED", "QUESTION_LOCKED")
    if position > index:
        return OpOutcome(rid, "FLAGGED", "QUESTION_NOT_CURRENT")
    if op.advance and index + 1 >= len(s.questions):
        return OpOutcome(rid, "REJECTED", "NO_NEXT_QUESTION")
    return OpOutcome(rid, "APPLIED")


# --- gates shown to the candidate ---------------------------------------------------------------

@dataclass(frozen=True)
class Gate:
    allowed: bool
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    reason: str = ""
    message_en: str = ""
    message_zh: str = ""


def _gate(check: object, opens: datetime | None, closes: datetime | None) -> Gate:
    try:
        check()  # type: ignore[operator]
    except (FailedPrecondition, OutOfRange) as exc:
        return Gate(False, opens, closes, exc.reason, exc.message_en, exc.message_zh)
    return Gate(True, opens, closes)


def gates(s: Sitting, c: Candidate, now: datetime) -> dict[str, Gate]:
    t = s.timeline
    return {
        "login": _gate(lambda: decide_login(s, c, now), t.login_opens, t.end),
        "waiting": _gate(lambda: decide_waiting(s, c, now), t.waiting_room_opens, t.last_entry),
        "entry": _gate(lambda: decide_enter(s, c, now), t.start, t.last_entry),
        "finish": _gate(lambda: check_finish(c, now), c.attempt_ends_at or t.end, None),
    }


def clock_offset(previous_ms: int, server: datetime, client: datetime, samples: int) -> int:
    """Smoothed server - client offset in ms (EWMA; the first sample is taken as is)."""
    measured = int((server - client).total_seconds() * 1000)
    if samples <= 1 or previous_ms == 0:
        return measured
    return int(previous_ms * 0.8 + measured * 0.2)

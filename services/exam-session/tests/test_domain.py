"""The rules with time injected, including property-based checks over random request sequences."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exam_session import domain
from exam_session.domain import Answer, Candidate, Kind, Policy, QType, Question, Sitting, State, Timeline
from proctor.common.v1 import common_pb2
from proctor_runtime.errors import DomainError, FailedPrecondition, InvalidArgument, NotFound, OutOfRange

T0 = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # 09:30 Asia/Shanghai: login opens


def timeline(start: datetime = T0 + timedelta(minutes=30)) -> Timeline:
    return Timeline(login_opens=start - timedelta(minutes=30), waiting_room_opens=start - timedelta(minutes=10),
                    start=start, last_entry=start + timedelta(minutes=30), end=start + timedelta(minutes=90),
                    upload_deadline=start + timedelta(minutes=150))


def sitting(kind: Kind = Kind.FORMAL, n: int = 5, **policy: object) -> Sitting:
    qs = tuple(Question(f"q{i}", QType.SINGLE_CHOICE, i, ("A", "B", "C", "D")) for i in range(n))
    return Sitting("s1", kind, timeline(), qs, Policy(**policy))  # type: ignore[arg-type]


def cand(state: State = State.REGISTERED, **kw: object) -> Candidate:
    return Candidate("s1", "c1", state, T0, **kw)  # type: ignore[arg-type]


def in_exam(s: Sitting, index: int = 0) -> Candidate:
    return cand(State.IN_EXAM, attempt_number=1, current_index=index, attempt_ends_at=s.timeline.end)


def test_state_numbers_match_the_contract():
    for state in State:
        assert common_pb2.CandidateState.Value(f"CANDIDATE_STATE_{state.name}") == int(state)


def test_timeline_order_is_validated():
    t = timeline()
    with pytest.raises(InvalidArgument) as err:
        replace(t, last_entry=t.start - timedelta(minutes=1)).validate()
    assert err.value.reason == "TIMELINE_ORDER"
    with pytest.raises(InvalidArgument):
        replace(t, end=t.last_entry).validate()
    t.validate()
    compressed = Timeline(T0, T0 + timedelta(seconds=20), T0 + timedelta(seconds=30),
                          T0 + timedelta(seconds=60), T0 + timedelta(minutes=3), T0 + timedelta(minutes=5))
    compressed.validate()  # minutes-long demo timelines are fine


def test_duplicate_question_ids_are_refused():
    s = sitting()
    with pytest.raises(InvalidArgument) as err:
        replace(s, questions=(*s.questions, s.questions[0])).validate()
    assert err.value.reason == "DUPLICATE_QUESTION_ID"


def test_login_before_it_opens_says_when():
    s = sitting()
    with pytest.raises(FailedPrecondition) as err:
        domain.decide_login(s, cand(), s.timeline.login_opens - timedelta(seconds=1))
    assert err.value.reason == "LOGIN_NOT_OPEN"
    assert err.value.metadata["opens_at"] == "2026-12-01T01:30:00Z"
    assert domain.decide_login(s, cand(), s.timeline.login_opens).to_state == State.LOGGED_IN


def test_nobody_enters_after_last_entry_with_the_bilingual_message():
    s = sitting()
    c = cand(State.WAITING, room_scanned=True, phone_device_id="p")
    with pytest.raises(FailedPrecondition) as err:
        domain.decide_enter(s, c, s.timeline.last_entry + timedelta(seconds=1))
    assert err.value.reason == "ENTRY_CLOSED"
    assert "截止进入时间已过" in err.value.message_zh and "entry closed at" in err.value.message_en
    assert domain.decide_enter(s, c, s.timeline.last_entry).attempt_ends_at == s.timeline.end


def test_entry_needs_start_phone_and_room_scan():
    s = sitting()
    start = s.timeline.start
    with pytest.raises(FailedPrecondition) as err:
        domain.decide_enter(s, cand(State.WAITING), start - timedelta(seconds=1))
    assert err.value.reason == "ENTRY_NOT_OPEN"
    with pytest.raises(FailedPrecondition) as err:
        domain.decide_enter(s, cand(State.LOGGED_IN), start)
    assert err.value.reason == "PHONE_NOT_BOUND"
    with pytest.raises(FailedPrecondition) as err:
        domain.decide_enter(s, cand(State.PHONE_BOUND, phone_device_id="p"), start)
    assert err.value.reason == "ROOM_SCAN_MISSING"
    relaxed = sitting(require_phone=False, require_room_scan=False)
    assert not domain.decide_enter(relaxed, cand(State.LOGGED_IN), start).already_in


def test_no_early_submission():
    s = sitting()
    c = in_exam(s)
    with pytest.raises(FailedPrecondition) as err:
        domain.check_finish(c, s.timeline.end - timedelta(seconds=1))
    assert err.value.reason == "EARLY_SUBMISSION_NOT_ALLOWED"
    assert "不允许提前交卷" in err.value.message_zh
    assert domain.check_finish(c, s.timeline.end) is True
    assert domain.check_finish(replace(c, state=State.FINISHED), s.timeline.end) is False


def test_locked_and_future_questions_are_refused_precisely():
    s = sitting()
    c = in_exam(s, index=2)
    with pytest.raises(FailedPrecondition) as err:
        domain.check_current(s, c, "q1")
    assert err.value.reason == "QUESTION_LOCKED"
    with pytest.raises(FailedPrecondition) as err:
        domain.check_current(s, c, "q3")
    assert err.value.reason == "QUESTION_NOT_CURRENT"
    assert err.value.metadata["current_question_id"] == "q2"
    with pytest.raises(NotFound):
        domain.check_current(s, c, "nope")
    with pytest.raises(OutOfRange):
        domain.check_advance(s, in_exam(s, index=4), "q4")


def test_answers_are_validated_by_type_options_and_size():
    s = sitting(max_answer_bytes=100)
    q = s.questions[0]
    domain.validate_answer(s, q, Answer(QType.SINGLE_CHOICE, single="A"), 10)
    for bad, reason in [(Answer(QType.SINGLE_CHOICE, single="Z"), "UNKNOWN_OPTION"),
                        (Answer(QType.ESSAY, essay="x"), "ANSWER_TYPE_MISMATCH")]:
        with pytest.raises(InvalidArgument) as err:
            domain.validate_answer(s, q, bad, 10)
        assert err.value.reason == reason
    with pytest.raises(InvalidArgument) as err:
        domain.validate_answer(s, q, Answer(QType.SINGLE_CHOICE, single="A"), 101)
    assert err.value.reason == "ANSWER_TOO_LARGE" and err.value.metadata["max_bytes"] == "100"


def test_mock_attempts_are_limited():
    s = sitting(Kind.MOCK, attempt_limit=3)
    now = s.timeline.start
    finished = cand(State.FINISHED, attempt_number=2)
    assert domain.decide_login(s, finished, now).new_attempt
    with pytest.raises(FailedPrecondition) as err:
        domain.decide_login(s, replace(finished, attempt_number=3), now)
    assert err.value.reason == "ATTEMPT_LIMIT_REACHED"
    with pytest.raises(FailedPrecondition):
        domain.decide_login(sitting(), finished, now)  # formal: one attempt


def test_mock_attempt_ends_after_its_duration():
    s = sitting(Kind.MOCK, attempt_duration=timedelta(minutes=20))
    c = cand(State.WAITING, room_scanned=True, phone_device_id="p")
    now = s.timeline.start + timedelta(minutes=5)
    assert domain.decide_enter(s, c, now).attempt_ends_at == now + timedelta(minutes=20)


def test_offline_ops_apply_in_order_and_late_or_out_of_order_ones_are_flagged():
    s = sitting()
    c = in_exam(s)
    end = s.timeline.end
    ops = [
        domain.OfflineOp("r1", 1, end - timedelta(minutes=5), "q0", False, Answer(QType.SINGLE_CHOICE, single="A"), 5),
        domain.OfflineOp("r2", 2, end - timedelta(minutes=4), "q0", True),
        domain.OfflineOp("r3", 3, end - timedelta(minutes=3), "q0", False, Answer(QType.SINGLE_CHOICE, single="B"), 5),
        domain.OfflineOp("r4", 4, end + timedelta(minutes=5), "q1", False, Answer(QType.SINGLE_CHOICE, single="C"), 5),
        domain.OfflineOp("r5", 5, end - timedelta(minutes=2), "q9", False, Answer(QType.SINGLE_CHOICE, single="C"), 5),
    ]
    outcomes, index = domain.evaluate_offline(s, c, ops, timedelta(0))
    assert [(o.outcome, o.reason) for o in outcomes] == [
        ("APPLIED", ""), ("APPLIED", ""), ("FLAGGED", "QUESTION_LOCKED"), ("FLAGGED", "AFTER_END"),
        ("REJECTED", "QUESTION_NOT_FOUND")]
    assert index == 1


def test_clock_offset_is_smoothed():
    server = T0
    assert domain.clock_offset(0, server, server - timedelta(seconds=3), 1) == 3000
    assert domain.clock_offset(3000, server, server - timedelta(seconds=4), 2) == 3200


# --- properties over random sequences of requests and clock moves ------------------------------------

ACTIONS = st.lists(st.tuples(
    st.sampled_from(["tick", "login", "bind", "scan", "wait", "enter", "save", "advance", "finish"]),
    st.integers(min_value=0, max_value=40), st.sampled_from(["A", "B", "C"])), max_size=60)


@settings(max_examples=300, deadline=None)
@given(ACTIONS)
def test_invariants_hold_for_any_sequence_of_requests_and_clock_moves(actions):
    s = sitting(n=4)
    now = s.timeline.login_opens - timedelta(minutes=5)
    c = cand()
    answers: dict[int, str] = {}
    locked: dict[int, str | None] = {}
    for action, amount, option in actions:
        before = c
        try:
            if action == "tick":
                now += timedelta(minutes=amount / 4)
            elif action == "login":
                d = domain.decide_login(s, c, now)
                if d.new_attempt:
                    c = replace(c, state=d.to_state, attempt_number=c.attempt_number + 1)
            elif action == "bind":
                domain.check_bind(s, c, now)
                c = replace(c, state=domain.after_phone_bound(s, c), phone_device_id="p")
            elif action == "scan":
                to = domain.after_room_scan(c)
                c = replace(c, state=to or c.state, room_scanned=True)
            elif action == "wait":
                c = replace(c, state=domain.decide_waiting(s, c, now))
            elif action == "enter":
                d = domain.decide_enter(s, c, now)
                if not d.already_in:
                    assert now <= s.timeline.last_entry, "nobody enters after last entry"
                    c = replace(c, state=State.IN_EXAM, attempt_ends_at=d.attempt_ends_at)
            elif action == "save":
                domain.check_answering(c, now)
                qid = s.questions[min(amount % 4, 3)].question_id
                q = domain.check_current(s, c, qid)
                assert q.position not in locked, "a locked question never changes"
                answers[q.position] = option
            elif action == "advance":
                domain.check_answering(c, now)
                nxt = domain.check_advance(s, c, s.questions[c.current_index].question_id)
                locked[c.current_index] = answers.get(c.current_index)
                c = replace(c, current_index=nxt)
            elif action == "finish":
                if domain.check_finish(c, now):
                    assert now >= s.timeline.end, "nobody finishes before the end"
                    c = replace(c, state=State.FINISHED)
        except DomainError:
            assert c == before, "a refused request changes nothing"
        for index, value in locked.items():
            assert answers.get(index) == value, "a saved answer of a locked question is never lost or changed"

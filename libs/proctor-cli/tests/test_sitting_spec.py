from datetime import UTC, datetime, timedelta

import pytest

from proctor.common.v1 import common_pb2
from proctor_cli.sitting_spec import SpecError, duration, to_proto


def spec(**over):
    data = {"sitting_id": "s1", "name": "n", "timeline": {"start": "2026-12-01T10:00:00+08:00", "duration": "90m"},
            "questions": [{"id": "q1", "type": "single_choice", "options": ["A", "B"]}]}
    data.update(over)
    return data


def test_defaults_follow_the_seed_timeline():
    s = to_proto(spec())
    t = {name: getattr(s.timeline, name).ToDatetime(UTC) for name in
         ("login_opens", "waiting_room_opens", "start", "last_entry", "end", "upload_deadline")}
    start = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    assert t["start"] == start
    assert t["login_opens"] == start - timedelta(minutes=30)
    assert t["waiting_room_opens"] == start - timedelta(minutes=10)
    assert t["last_entry"] == start + timedelta(minutes=30)
    assert t["end"] == start + timedelta(minutes=90)
    assert t["upload_deadline"] == start + timedelta(minutes=150)
    assert s.kind == common_pb2.SITTING_KIND_FORMAL and s.time_zone == "Asia/Shanghai"
    assert s.policy.require_phone and s.policy.require_room_scan


def test_naive_times_are_read_in_the_sitting_time_zone_and_offsets_can_be_absolute():
    s = to_proto(spec(timeline={"start": "2026-12-01 10:00", "end": "2026-12-01 11:30",
                                "last_entry": "2026-12-01T10:15:00+08:00", "upload_deadline": "+2h"}))
    assert s.timeline.start.ToDatetime(UTC) == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    assert s.timeline.last_entry.ToDatetime(UTC) == datetime(2026, 12, 1, 2, 15, tzinfo=UTC)
    assert s.timeline.upload_deadline.ToDatetime(UTC) == datetime(2026, 12, 1, 5, 30, tzinfo=UTC)


def test_mock_policy_and_question_types():
    s = to_proto(spec(kind="mock", policy={"attempt_limit": 3, "attempt_duration": "20m", "require_phone": False},
                      questions=[{"id": "e", "type": "essay", "max_answer_bytes": 9000},
                                 {"id": "f", "type": "fill_in", "blanks": 3}]))
    assert s.kind == common_pb2.SITTING_KIND_MOCK and s.policy.attempt_limit == 3
    assert s.policy.attempt_duration.ToTimedelta() == timedelta(minutes=20) and not s.policy.require_phone
    assert [q.max_answer_bytes for q in s.questions] == [9000, 0] and s.questions[1].blank_count == 3


@pytest.mark.parametrize(("over", "message"), [
    ({"timeline": {"duration": "90m"}}, "timeline.start is required"),
    ({"timeline": {"start": "2026-12-01T10:00:00+08:00"}}, "give end or duration"),
    ({"timeline": {"start": "tomorrow", "duration": "9m"}}, "timeline.start"),
    ({"time_zone": "Mars/Olympus"}, "unknown zone"),
    ({"kind": "practice"}, "formal or mock"),
    ({"questions": [{"id": "q", "type": "oral"}]}, "questions[0].type"),
    ({"policy": {"abandon_grace": "soon"}}, "policy.abandon_grace"),
])
def test_bad_specs_name_the_field(over, message):
    with pytest.raises(SpecError, match=message.replace("[", r"\[").replace("]", r"\]")):
        to_proto(spec(**over))


def test_durations():
    assert duration("-10m", "x") == timedelta(minutes=-10)
    assert duration("1.5h", "x") == timedelta(minutes=90)
    assert duration(45, "x") == timedelta(seconds=45)

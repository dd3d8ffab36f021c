from datetime import UTC, datetime

from google.protobuf import symbol_database

import proctor.events.v1.anomaly_pb2
import proctor.events.v1.audit_pb2
import proctor.events.v1.incident_pb2
import proctor.events.v1.media_pb2
import proctor.events.v1.messaging_pb2
import proctor.events.v1.session_pb2
import proctor.events.v1.telemetry_pb2  # noqa: F401 - registers the messages
from proctor_runtime.context import set_request_id
from proctor_runtime.events import from_ts, meta, ts, uuid7
from proctor_runtime.topics import ALL_TOPICS, new_topics


def test_every_topic_names_an_event_message_of_the_contract_with_meta_first():
    db = symbol_database.Default()
    for spec in ALL_TOPICS:
        message = db.pool.FindMessageTypeByName(spec.message)
        first = message.fields_by_number[1]
        assert first.name == "meta", spec.name
        assert first.message_type.full_name == "proctor.events.v1.EventMeta", spec.name


def test_topics_have_dlq_twins_except_the_compacted_changelog():
    names = {t.topic: t for t in new_topics()}
    for spec in ALL_TOPICS:
        assert spec.name in names
        assert (f"{spec.name}.dlq" in names) != spec.compacted
        expected = "compact" if spec.compacted else "delete"
        assert names[spec.name].config["cleanup.policy"] == expected


def test_meta_fills_ids_versions_and_request_id():
    set_request_id("req-1")
    when = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    m = meta(sitting_id="s", candidate_id="c", producer="exam-session", event_time=when)
    assert m.schema_version == 1 and m.request_id == "req-1" and m.producer == "exam-session"
    assert from_ts(m.event_time) == when
    assert from_ts(ts(when)) == when
    set_request_id("")


def test_uuid7_is_unique_and_time_ordered():
    ids = [uuid7() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(i[14] == "7" for i in ids)
    assert [i[:13] for i in ids] == sorted(i[:13] for i in ids)

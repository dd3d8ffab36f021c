import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from proctor.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EscalationTarget(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ESCALATION_TARGET_UNSPECIFIED: _ClassVar[EscalationTarget]
    ESCALATION_TARGET_CHIEF_PROCTOR: _ClassVar[EscalationTarget]
    ESCALATION_TARGET_TECH_SUPPORT: _ClassVar[EscalationTarget]
    ESCALATION_TARGET_REVIEW_BOARD: _ClassVar[EscalationTarget]

class IncidentActionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INCIDENT_ACTION_KIND_UNSPECIFIED: _ClassVar[IncidentActionKind]
    INCIDENT_ACTION_KIND_OPENED: _ClassVar[IncidentActionKind]
    INCIDENT_ACTION_KIND_UPDATED: _ClassVar[IncidentActionKind]
    INCIDENT_ACTION_KIND_CLOSED: _ClassVar[IncidentActionKind]
    INCIDENT_ACTION_KIND_ACKNOWLEDGED: _ClassVar[IncidentActionKind]
    INCIDENT_ACTION_KIND_ESCALATED: _ClassVar[IncidentActionKind]
    INCIDENT_ACTION_KIND_RESOLVED: _ClassVar[IncidentActionKind]
    INCIDENT_ACTION_KIND_NOTICE_SENT: _ClassVar[IncidentActionKind]

class FeedStart(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FEED_START_UNSPECIFIED: _ClassVar[FeedStart]
    FEED_START_SNAPSHOT: _ClassVar[FeedStart]
    FEED_START_NOW: _ClassVar[FeedStart]
    FEED_START_BEGINNING: _ClassVar[FeedStart]

class FeedItemKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FEED_ITEM_KIND_UNSPECIFIED: _ClassVar[FeedItemKind]
    FEED_ITEM_KIND_INCIDENT: _ClassVar[FeedItemKind]
    FEED_ITEM_KIND_HELP: _ClassVar[FeedItemKind]
    FEED_ITEM_KIND_CANDIDATE: _ClassVar[FeedItemKind]

class IncidentUpdateKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INCIDENT_UPDATE_KIND_UNSPECIFIED: _ClassVar[IncidentUpdateKind]
    INCIDENT_UPDATE_KIND_OPENED: _ClassVar[IncidentUpdateKind]
    INCIDENT_UPDATE_KIND_UPDATED: _ClassVar[IncidentUpdateKind]
    INCIDENT_UPDATE_KIND_CLOSED: _ClassVar[IncidentUpdateKind]
    INCIDENT_UPDATE_KIND_ACKNOWLEDGED: _ClassVar[IncidentUpdateKind]
    INCIDENT_UPDATE_KIND_ESCALATED: _ClassVar[IncidentUpdateKind]
    INCIDENT_UPDATE_KIND_RESOLVED: _ClassVar[IncidentUpdateKind]
    INCIDENT_UPDATE_KIND_SNAPSHOT: _ClassVar[IncidentUpdateKind]
ESCALATION_TARGET_UNSPECIFIED: EscalationTarget
ESCALATION_TARGET_CHIEF_PROCTOR: EscalationTarget
ESCALATION_TARGET_TECH_SUPPORT: EscalationTarget
ESCALATION_TARGET_REVIEW_BOARD: EscalationTarget
INCIDENT_ACTION_KIND_UNSPECIFIED: IncidentActionKind
INCIDENT_ACTION_KIND_OPENED: IncidentActionKind
INCIDENT_ACTION_KIND_UPDATED: IncidentActionKind
INCIDENT_ACTION_KIND_CLOSED: IncidentActionKind
INCIDENT_ACTION_KIND_ACKNOWLEDGED: IncidentActionKind
INCIDENT_ACTION_KIND_ESCALATED: IncidentActionKind
INCIDENT_ACTION_KIND_RESOLVED: IncidentActionKind
INCIDENT_ACTION_KIND_NOTICE_SENT: IncidentActionKind
FEED_START_UNSPECIFIED: FeedStart
FEED_START_SNAPSHOT: FeedStart
FEED_START_NOW: FeedStart
FEED_START_BEGINNING: FeedStart
FEED_ITEM_KIND_UNSPECIFIED: FeedItemKind
FEED_ITEM_KIND_INCIDENT: FeedItemKind
FEED_ITEM_KIND_HELP: FeedItemKind
FEED_ITEM_KIND_CANDIDATE: FeedItemKind
INCIDENT_UPDATE_KIND_UNSPECIFIED: IncidentUpdateKind
INCIDENT_UPDATE_KIND_OPENED: IncidentUpdateKind
INCIDENT_UPDATE_KIND_UPDATED: IncidentUpdateKind
INCIDENT_UPDATE_KIND_CLOSED: IncidentUpdateKind
INCIDENT_UPDATE_KIND_ACKNOWLEDGED: IncidentUpdateKind
INCIDENT_UPDATE_KIND_ESCALATED: IncidentUpdateKind
INCIDENT_UPDATE_KIND_RESOLVED: IncidentUpdateKind
INCIDENT_UPDATE_KIND_SNAPSHOT: IncidentUpdateKind

class IncidentView(_message.Message):
    __slots__ = ("incident", "active", "status", "verdict", "note", "acknowledged_by", "acknowledged_at", "resolved_by", "resolved_at", "escalated_to", "escalation_reason", "revision", "detection_revision", "first_seen_at")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_BY_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_BY_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_TO_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_REASON_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    DETECTION_REVISION_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_AT_FIELD_NUMBER: _ClassVar[int]
    incident: _common_pb2.Incident
    active: bool
    status: _common_pb2.IncidentStatus
    verdict: _common_pb2.Verdict
    note: str
    acknowledged_by: _common_pb2.Actor
    acknowledged_at: _timestamp_pb2.Timestamp
    resolved_by: _common_pb2.Actor
    resolved_at: _timestamp_pb2.Timestamp
    escalated_to: EscalationTarget
    escalation_reason: str
    revision: int
    detection_revision: int
    first_seen_at: _timestamp_pb2.Timestamp
    def __init__(self, incident: _Optional[_Union[_common_pb2.Incident, _Mapping]] = ..., active: _Optional[bool] = ..., status: _Optional[_Union[_common_pb2.IncidentStatus, str]] = ..., verdict: _Optional[_Union[_common_pb2.Verdict, str]] = ..., note: _Optional[str] = ..., acknowledged_by: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ..., acknowledged_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolved_by: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ..., resolved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., escalated_to: _Optional[_Union[EscalationTarget, str]] = ..., escalation_reason: _Optional[str] = ..., revision: _Optional[int] = ..., detection_revision: _Optional[int] = ..., first_seen_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class IncidentAction(_message.Message):
    __slots__ = ("kind", "actor", "at", "verdict", "escalated_to", "note", "revision")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_TO_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    kind: IncidentActionKind
    actor: _common_pb2.Actor
    at: _timestamp_pb2.Timestamp
    verdict: _common_pb2.Verdict
    escalated_to: EscalationTarget
    note: str
    revision: int
    def __init__(self, kind: _Optional[_Union[IncidentActionKind, str]] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., verdict: _Optional[_Union[_common_pb2.Verdict, str]] = ..., escalated_to: _Optional[_Union[EscalationTarget, str]] = ..., note: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class IncidentDetail(_message.Message):
    __slots__ = ("view", "history")
    VIEW_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    view: IncidentView
    history: _containers.RepeatedCompositeFieldContainer[IncidentAction]
    def __init__(self, view: _Optional[_Union[IncidentView, _Mapping]] = ..., history: _Optional[_Iterable[_Union[IncidentAction, _Mapping]]] = ...) -> None: ...

class SubscribeIncidentsRequest(_message.Message):
    __slots__ = ("sitting_id", "room_ids", "resume_cursor", "start", "kinds", "min_severity")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_IDS_FIELD_NUMBER: _ClassVar[int]
    RESUME_CURSOR_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    MIN_SEVERITY_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    room_ids: _containers.RepeatedScalarFieldContainer[str]
    resume_cursor: str
    start: FeedStart
    kinds: _containers.RepeatedScalarFieldContainer[FeedItemKind]
    min_severity: _common_pb2.Severity
    def __init__(self, sitting_id: _Optional[str] = ..., room_ids: _Optional[_Iterable[str]] = ..., resume_cursor: _Optional[str] = ..., start: _Optional[_Union[FeedStart, str]] = ..., kinds: _Optional[_Iterable[_Union[FeedItemKind, str]]] = ..., min_severity: _Optional[_Union[_common_pb2.Severity, str]] = ...) -> None: ...

class IncidentUpdate(_message.Message):
    __slots__ = ("kind", "incident", "actor")
    KIND_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    kind: IncidentUpdateKind
    incident: IncidentView
    actor: _common_pb2.Actor
    def __init__(self, kind: _Optional[_Union[IncidentUpdateKind, str]] = ..., incident: _Optional[_Union[IncidentView, _Mapping]] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class HelpUpdate(_message.Message):
    __slots__ = ("message", "unanswered_in_thread")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    UNANSWERED_IN_THREAD_FIELD_NUMBER: _ClassVar[int]
    message: _common_pb2.ChatMessage
    unanswered_in_thread: int
    def __init__(self, message: _Optional[_Union[_common_pb2.ChatMessage, _Mapping]] = ..., unanswered_in_thread: _Optional[int] = ...) -> None: ...

class CandidateUpdate(_message.Message):
    __slots__ = ("candidate", "previous_state", "reason", "snapshot")
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    candidate: _common_pb2.CandidateSnapshot
    previous_state: _common_pb2.CandidateState
    reason: str
    snapshot: bool
    def __init__(self, candidate: _Optional[_Union[_common_pb2.CandidateSnapshot, _Mapping]] = ..., previous_state: _Optional[_Union[_common_pb2.CandidateState, str]] = ..., reason: _Optional[str] = ..., snapshot: _Optional[bool] = ...) -> None: ...

class SnapshotComplete(_message.Message):
    __slots__ = ("candidates", "incidents")
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    INCIDENTS_FIELD_NUMBER: _ClassVar[int]
    candidates: int
    incidents: int
    def __init__(self, candidates: _Optional[int] = ..., incidents: _Optional[int] = ...) -> None: ...

class Keepalive(_message.Message):
    __slots__ = ("server_time",)
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    server_time: _timestamp_pb2.Timestamp
    def __init__(self, server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ProctorFeedItem(_message.Message):
    __slots__ = ("cursor", "sequence", "appended_at", "incident", "help", "candidate", "snapshot_complete", "keepalive")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    APPENDED_AT_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    HELP_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    KEEPALIVE_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    sequence: int
    appended_at: _timestamp_pb2.Timestamp
    incident: IncidentUpdate
    help: HelpUpdate
    candidate: CandidateUpdate
    snapshot_complete: SnapshotComplete
    keepalive: Keepalive
    def __init__(self, cursor: _Optional[str] = ..., sequence: _Optional[int] = ..., appended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., incident: _Optional[_Union[IncidentUpdate, _Mapping]] = ..., help: _Optional[_Union[HelpUpdate, _Mapping]] = ..., candidate: _Optional[_Union[CandidateUpdate, _Mapping]] = ..., snapshot_complete: _Optional[_Union[SnapshotComplete, _Mapping]] = ..., keepalive: _Optional[_Union[Keepalive, _Mapping]] = ...) -> None: ...

class AcknowledgeIncidentRequest(_message.Message):
    __slots__ = ("incident_id", "note", "expected_revision")
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    note: str
    expected_revision: int
    def __init__(self, incident_id: _Optional[str] = ..., note: _Optional[str] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class ResolveIncidentRequest(_message.Message):
    __slots__ = ("incident_id", "verdict", "note", "expected_revision")
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    verdict: _common_pb2.Verdict
    note: str
    expected_revision: int
    def __init__(self, incident_id: _Optional[str] = ..., verdict: _Optional[_Union[_common_pb2.Verdict, str]] = ..., note: _Optional[str] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class EscalateIncidentRequest(_message.Message):
    __slots__ = ("incident_id", "target", "reason", "expected_revision")
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    target: EscalationTarget
    reason: str
    expected_revision: int
    def __init__(self, incident_id: _Optional[str] = ..., target: _Optional[_Union[EscalationTarget, str]] = ..., reason: _Optional[str] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class GetIncidentRequest(_message.Message):
    __slots__ = ("incident_id",)
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    def __init__(self, incident_id: _Optional[str] = ...) -> None: ...

class ListIncidentsRequest(_message.Message):
    __slots__ = ("sitting_id", "room_ids", "candidate_id", "kinds", "statuses", "verdicts", "min_severity", "started_between", "page_size", "page_token")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_IDS_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    VERDICTS_FIELD_NUMBER: _ClassVar[int]
    MIN_SEVERITY_FIELD_NUMBER: _ClassVar[int]
    STARTED_BETWEEN_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    room_ids: _containers.RepeatedScalarFieldContainer[str]
    candidate_id: str
    kinds: _containers.RepeatedScalarFieldContainer[_common_pb2.IncidentKind]
    statuses: _containers.RepeatedScalarFieldContainer[_common_pb2.IncidentStatus]
    verdicts: _containers.RepeatedScalarFieldContainer[_common_pb2.Verdict]
    min_severity: _common_pb2.Severity
    started_between: _common_pb2.TimeRange
    page_size: int
    page_token: str
    def __init__(self, sitting_id: _Optional[str] = ..., room_ids: _Optional[_Iterable[str]] = ..., candidate_id: _Optional[str] = ..., kinds: _Optional[_Iterable[_Union[_common_pb2.IncidentKind, str]]] = ..., statuses: _Optional[_Iterable[_Union[_common_pb2.IncidentStatus, str]]] = ..., verdicts: _Optional[_Iterable[_Union[_common_pb2.Verdict, str]]] = ..., min_severity: _Optional[_Union[_common_pb2.Severity, str]] = ..., started_between: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListIncidentsResponse(_message.Message):
    __slots__ = ("incidents", "next_page_token", "total_size")
    INCIDENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    incidents: _containers.RepeatedCompositeFieldContainer[IncidentView]
    next_page_token: str
    total_size: int
    def __init__(self, incidents: _Optional[_Iterable[_Union[IncidentView, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class SummarizeIncidentsRequest(_message.Message):
    __slots__ = ("sitting_id", "room_ids", "candidate_id")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_IDS_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    room_ids: _containers.RepeatedScalarFieldContainer[str]
    candidate_id: str
    def __init__(self, sitting_id: _Optional[str] = ..., room_ids: _Optional[_Iterable[str]] = ..., candidate_id: _Optional[str] = ...) -> None: ...

class IncidentCount(_message.Message):
    __slots__ = ("room_id", "kind", "status", "verdict", "count")
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    kind: _common_pb2.IncidentKind
    status: _common_pb2.IncidentStatus
    verdict: _common_pb2.Verdict
    count: int
    def __init__(self, room_id: _Optional[str] = ..., kind: _Optional[_Union[_common_pb2.IncidentKind, str]] = ..., status: _Optional[_Union[_common_pb2.IncidentStatus, str]] = ..., verdict: _Optional[_Union[_common_pb2.Verdict, str]] = ..., count: _Optional[int] = ...) -> None: ...

class IncidentSummary(_message.Message):
    __slots__ = ("counts", "total")
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    counts: _containers.RepeatedCompositeFieldContainer[IncidentCount]
    total: int
    def __init__(self, counts: _Optional[_Iterable[_Union[IncidentCount, _Mapping]]] = ..., total: _Optional[int] = ...) -> None: ...

class ReplyHelpRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "thread_id", "text", "client_message_id")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    thread_id: str
    text: str
    client_message_id: str
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., thread_id: _Optional[str] = ..., text: _Optional[str] = ..., client_message_id: _Optional[str] = ...) -> None: ...

class ListHelpThreadsRequest(_message.Message):
    __slots__ = ("sitting_id", "room_ids", "only_unanswered", "page_size", "page_token")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_IDS_FIELD_NUMBER: _ClassVar[int]
    ONLY_UNANSWERED_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    room_ids: _containers.RepeatedScalarFieldContainer[str]
    only_unanswered: bool
    page_size: int
    page_token: str
    def __init__(self, sitting_id: _Optional[str] = ..., room_ids: _Optional[_Iterable[str]] = ..., only_unanswered: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class HelpThreadSummary(_message.Message):
    __slots__ = ("thread_id", "sitting_id", "candidate_id", "room_id", "message_count", "unanswered", "last_message")
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    UNANSWERED_FIELD_NUMBER: _ClassVar[int]
    LAST_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    thread_id: str
    sitting_id: str
    candidate_id: str
    room_id: str
    message_count: int
    unanswered: int
    last_message: _common_pb2.ChatMessage
    def __init__(self, thread_id: _Optional[str] = ..., sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., room_id: _Optional[str] = ..., message_count: _Optional[int] = ..., unanswered: _Optional[int] = ..., last_message: _Optional[_Union[_common_pb2.ChatMessage, _Mapping]] = ...) -> None: ...

class ListHelpThreadsResponse(_message.Message):
    __slots__ = ("threads", "next_page_token")
    THREADS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    threads: _containers.RepeatedCompositeFieldContainer[HelpThreadSummary]
    next_page_token: str
    def __init__(self, threads: _Optional[_Iterable[_Union[HelpThreadSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListHelpThreadRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "thread_id", "page_size", "page_token")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    thread_id: str
    page_size: int
    page_token: str
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., thread_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListHelpThreadResponse(_message.Message):
    __slots__ = ("messages", "next_page_token")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[_common_pb2.ChatMessage]
    next_page_token: str
    def __init__(self, messages: _Optional[_Iterable[_Union[_common_pb2.ChatMessage, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SendCandidateNoticeRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "kind", "text", "severity", "related_incident_id", "target_device", "client_request_id")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    RELATED_INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_DEVICE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    kind: _common_pb2.NoticeKind
    text: _common_pb2.LocalizedText
    severity: _common_pb2.Severity
    related_incident_id: str
    target_device: _common_pb2.DeviceKind
    client_request_id: str
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., kind: _Optional[_Union[_common_pb2.NoticeKind, str]] = ..., text: _Optional[_Union[_common_pb2.LocalizedText, _Mapping]] = ..., severity: _Optional[_Union[_common_pb2.Severity, str]] = ..., related_incident_id: _Optional[str] = ..., target_device: _Optional[_Union[_common_pb2.DeviceKind, str]] = ..., client_request_id: _Optional[str] = ...) -> None: ...

class SubscribeCandidateNoticesRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "resume_cursor")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    RESUME_CURSOR_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    resume_cursor: str
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., resume_cursor: _Optional[str] = ...) -> None: ...

class CandidateNoticeItem(_message.Message):
    __slots__ = ("cursor", "notice", "keepalive")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    NOTICE_FIELD_NUMBER: _ClassVar[int]
    KEEPALIVE_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    notice: _common_pb2.Notice
    keepalive: Keepalive
    def __init__(self, cursor: _Optional[str] = ..., notice: _Optional[_Union[_common_pb2.Notice, _Mapping]] = ..., keepalive: _Optional[_Union[Keepalive, _Mapping]] = ...) -> None: ...

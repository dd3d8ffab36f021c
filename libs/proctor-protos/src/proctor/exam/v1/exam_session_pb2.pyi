import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from proctor.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QuestionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUESTION_TYPE_UNSPECIFIED: _ClassVar[QuestionType]
    QUESTION_TYPE_SINGLE_CHOICE: _ClassVar[QuestionType]
    QUESTION_TYPE_MULTIPLE_CHOICE: _ClassVar[QuestionType]
    QUESTION_TYPE_FILL_IN: _ClassVar[QuestionType]
    QUESTION_TYPE_ESSAY: _ClassVar[QuestionType]

class OfflineOpOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OFFLINE_OP_OUTCOME_UNSPECIFIED: _ClassVar[OfflineOpOutcome]
    OFFLINE_OP_OUTCOME_APPLIED: _ClassVar[OfflineOpOutcome]
    OFFLINE_OP_OUTCOME_DUPLICATE: _ClassVar[OfflineOpOutcome]
    OFFLINE_OP_OUTCOME_FLAGGED: _ClassVar[OfflineOpOutcome]
    OFFLINE_OP_OUTCOME_REJECTED: _ClassVar[OfflineOpOutcome]

class AnswerSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ANSWER_SOURCE_UNSPECIFIED: _ClassVar[AnswerSource]
    ANSWER_SOURCE_ONLINE: _ClassVar[AnswerSource]
    ANSWER_SOURCE_OFFLINE_SYNC: _ClassVar[AnswerSource]
QUESTION_TYPE_UNSPECIFIED: QuestionType
QUESTION_TYPE_SINGLE_CHOICE: QuestionType
QUESTION_TYPE_MULTIPLE_CHOICE: QuestionType
QUESTION_TYPE_FILL_IN: QuestionType
QUESTION_TYPE_ESSAY: QuestionType
OFFLINE_OP_OUTCOME_UNSPECIFIED: OfflineOpOutcome
OFFLINE_OP_OUTCOME_APPLIED: OfflineOpOutcome
OFFLINE_OP_OUTCOME_DUPLICATE: OfflineOpOutcome
OFFLINE_OP_OUTCOME_FLAGGED: OfflineOpOutcome
OFFLINE_OP_OUTCOME_REJECTED: OfflineOpOutcome
ANSWER_SOURCE_UNSPECIFIED: AnswerSource
ANSWER_SOURCE_ONLINE: AnswerSource
ANSWER_SOURCE_OFFLINE_SYNC: AnswerSource

class Timeline(_message.Message):
    __slots__ = ("login_opens", "waiting_room_opens", "start", "last_entry", "end", "upload_deadline")
    LOGIN_OPENS_FIELD_NUMBER: _ClassVar[int]
    WAITING_ROOM_OPENS_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    LAST_ENTRY_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    login_opens: _timestamp_pb2.Timestamp
    waiting_room_opens: _timestamp_pb2.Timestamp
    start: _timestamp_pb2.Timestamp
    last_entry: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    upload_deadline: _timestamp_pb2.Timestamp
    def __init__(self, login_opens: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., waiting_room_opens: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_entry: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., upload_deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Question(_message.Message):
    __slots__ = ("question_id", "type", "content_ref", "position", "option_ids", "blank_count", "max_answer_bytes")
    QUESTION_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_REF_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    OPTION_IDS_FIELD_NUMBER: _ClassVar[int]
    BLANK_COUNT_FIELD_NUMBER: _ClassVar[int]
    MAX_ANSWER_BYTES_FIELD_NUMBER: _ClassVar[int]
    question_id: str
    type: QuestionType
    content_ref: str
    position: int
    option_ids: _containers.RepeatedScalarFieldContainer[str]
    blank_count: int
    max_answer_bytes: int
    def __init__(self, question_id: _Optional[str] = ..., type: _Optional[_Union[QuestionType, str]] = ..., content_ref: _Optional[str] = ..., position: _Optional[int] = ..., option_ids: _Optional[_Iterable[str]] = ..., blank_count: _Optional[int] = ..., max_answer_bytes: _Optional[int] = ...) -> None: ...

class SittingPolicy(_message.Message):
    __slots__ = ("attempt_limit", "attempt_duration", "heartbeat_interval", "abandon_grace", "clock_skew_tolerance", "max_answer_bytes", "require_phone", "require_room_scan", "required_streams", "bind_code_validity")
    ATTEMPT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_DURATION_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    ABANDON_GRACE_FIELD_NUMBER: _ClassVar[int]
    CLOCK_SKEW_TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    MAX_ANSWER_BYTES_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_PHONE_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_ROOM_SCAN_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_STREAMS_FIELD_NUMBER: _ClassVar[int]
    BIND_CODE_VALIDITY_FIELD_NUMBER: _ClassVar[int]
    attempt_limit: int
    attempt_duration: _duration_pb2.Duration
    heartbeat_interval: _duration_pb2.Duration
    abandon_grace: _duration_pb2.Duration
    clock_skew_tolerance: _duration_pb2.Duration
    max_answer_bytes: int
    require_phone: bool
    require_room_scan: bool
    required_streams: _containers.RepeatedScalarFieldContainer[_common_pb2.StreamKind]
    bind_code_validity: _duration_pb2.Duration
    def __init__(self, attempt_limit: _Optional[int] = ..., attempt_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., heartbeat_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., abandon_grace: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., clock_skew_tolerance: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_answer_bytes: _Optional[int] = ..., require_phone: _Optional[bool] = ..., require_room_scan: _Optional[bool] = ..., required_streams: _Optional[_Iterable[_Union[_common_pb2.StreamKind, str]]] = ..., bind_code_validity: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Sitting(_message.Message):
    __slots__ = ("sitting_id", "name", "kind", "time_zone", "timeline", "questions", "question_count", "policy", "created_at", "server_time")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_FIELD_NUMBER: _ClassVar[int]
    QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    QUESTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    name: str
    kind: _common_pb2.SittingKind
    time_zone: str
    timeline: Timeline
    questions: _containers.RepeatedCompositeFieldContainer[Question]
    question_count: int
    policy: SittingPolicy
    created_at: _timestamp_pb2.Timestamp
    server_time: _timestamp_pb2.Timestamp
    def __init__(self, sitting_id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[_common_pb2.SittingKind, str]] = ..., time_zone: _Optional[str] = ..., timeline: _Optional[_Union[Timeline, _Mapping]] = ..., questions: _Optional[_Iterable[_Union[Question, _Mapping]]] = ..., question_count: _Optional[int] = ..., policy: _Optional[_Union[SittingPolicy, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateSittingRequest(_message.Message):
    __slots__ = ("sitting",)
    SITTING_FIELD_NUMBER: _ClassVar[int]
    sitting: Sitting
    def __init__(self, sitting: _Optional[_Union[Sitting, _Mapping]] = ...) -> None: ...

class GetSittingRequest(_message.Message):
    __slots__ = ("sitting_id",)
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    def __init__(self, sitting_id: _Optional[str] = ...) -> None: ...

class ListSittingsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "active_between")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_BETWEEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    active_between: _common_pb2.TimeRange
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., active_between: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ...) -> None: ...

class ListSittingsResponse(_message.Message):
    __slots__ = ("sittings", "next_page_token")
    SITTINGS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sittings: _containers.RepeatedCompositeFieldContainer[Sitting]
    next_page_token: str
    def __init__(self, sittings: _Optional[_Iterable[_Union[Sitting, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CandidateRow(_message.Message):
    __slots__ = ("line", "candidate_id", "name", "id_photo_ref", "sitting_id", "room_id", "extra")
    class ExtraEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    LINE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_PHOTO_REF_FIELD_NUMBER: _ClassVar[int]
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    line: int
    candidate_id: str
    name: str
    id_photo_ref: str
    sitting_id: str
    room_id: str
    extra: _containers.ScalarMap[str, str]
    def __init__(self, line: _Optional[int] = ..., candidate_id: _Optional[str] = ..., name: _Optional[str] = ..., id_photo_ref: _Optional[str] = ..., sitting_id: _Optional[str] = ..., room_id: _Optional[str] = ..., extra: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ImportCandidatesRequest(_message.Message):
    __slots__ = ("rows", "dry_run")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[CandidateRow]
    dry_run: bool
    def __init__(self, rows: _Optional[_Iterable[_Union[CandidateRow, _Mapping]]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class RowRejection(_message.Message):
    __slots__ = ("line", "candidate_id", "reason", "message")
    LINE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    line: int
    candidate_id: str
    reason: str
    message: _common_pb2.LocalizedText
    def __init__(self, line: _Optional[int] = ..., candidate_id: _Optional[str] = ..., reason: _Optional[str] = ..., message: _Optional[_Union[_common_pb2.LocalizedText, _Mapping]] = ...) -> None: ...

class ImportCandidatesResponse(_message.Message):
    __slots__ = ("created", "updated", "unchanged", "rejected", "rejections")
    CREATED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    REJECTIONS_FIELD_NUMBER: _ClassVar[int]
    created: int
    updated: int
    unchanged: int
    rejected: int
    rejections: _containers.RepeatedCompositeFieldContainer[RowRejection]
    def __init__(self, created: _Optional[int] = ..., updated: _Optional[int] = ..., unchanged: _Optional[int] = ..., rejected: _Optional[int] = ..., rejections: _Optional[_Iterable[_Union[RowRejection, _Mapping]]] = ...) -> None: ...

class ListRoomsRequest(_message.Message):
    __slots__ = ("sitting_id",)
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    def __init__(self, sitting_id: _Optional[str] = ...) -> None: ...

class StateCount(_message.Message):
    __slots__ = ("state", "count")
    STATE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    state: _common_pb2.CandidateState
    count: int
    def __init__(self, state: _Optional[_Union[_common_pb2.CandidateState, str]] = ..., count: _Optional[int] = ...) -> None: ...

class Room(_message.Message):
    __slots__ = ("sitting_id", "room_id", "candidate_count", "state_counts")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_COUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_COUNTS_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    room_id: str
    candidate_count: int
    state_counts: _containers.RepeatedCompositeFieldContainer[StateCount]
    def __init__(self, sitting_id: _Optional[str] = ..., room_id: _Optional[str] = ..., candidate_count: _Optional[int] = ..., state_counts: _Optional[_Iterable[_Union[StateCount, _Mapping]]] = ...) -> None: ...

class ListRoomsResponse(_message.Message):
    __slots__ = ("rooms",)
    ROOMS_FIELD_NUMBER: _ClassVar[int]
    rooms: _containers.RepeatedCompositeFieldContainer[Room]
    def __init__(self, rooms: _Optional[_Iterable[_Union[Room, _Mapping]]] = ...) -> None: ...

class ListCandidatesRequest(_message.Message):
    __slots__ = ("sitting_id", "room_ids", "states", "only_offline", "page_size", "page_token")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_IDS_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    ONLY_OFFLINE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    room_ids: _containers.RepeatedScalarFieldContainer[str]
    states: _containers.RepeatedScalarFieldContainer[_common_pb2.CandidateState]
    only_offline: bool
    page_size: int
    page_token: str
    def __init__(self, sitting_id: _Optional[str] = ..., room_ids: _Optional[_Iterable[str]] = ..., states: _Optional[_Iterable[_Union[_common_pb2.CandidateState, str]]] = ..., only_offline: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCandidatesResponse(_message.Message):
    __slots__ = ("candidates", "next_page_token", "total_size")
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    candidates: _containers.RepeatedCompositeFieldContainer[_common_pb2.CandidateSnapshot]
    next_page_token: str
    total_size: int
    def __init__(self, candidates: _Optional[_Iterable[_Union[_common_pb2.CandidateSnapshot, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class GetCandidateStateRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "include_history")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_HISTORY_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    include_history: bool
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., include_history: _Optional[bool] = ...) -> None: ...

class Gate(_message.Message):
    __slots__ = ("allowed", "opens_at", "closes_at", "blocked_reason", "blocked_message")
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    OPENS_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSES_AT_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_REASON_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    allowed: bool
    opens_at: _timestamp_pb2.Timestamp
    closes_at: _timestamp_pb2.Timestamp
    blocked_reason: str
    blocked_message: _common_pb2.LocalizedText
    def __init__(self, allowed: _Optional[bool] = ..., opens_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closes_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., blocked_reason: _Optional[str] = ..., blocked_message: _Optional[_Union[_common_pb2.LocalizedText, _Mapping]] = ...) -> None: ...

class StateTransition(_message.Message):
    __slots__ = ("from_state", "to_state", "at", "actor", "reason", "attempt_number")
    FROM_STATE_FIELD_NUMBER: _ClassVar[int]
    TO_STATE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    from_state: _common_pb2.CandidateState
    to_state: _common_pb2.CandidateState
    at: _timestamp_pb2.Timestamp
    actor: _common_pb2.Actor
    reason: str
    attempt_number: int
    def __init__(self, from_state: _Optional[_Union[_common_pb2.CandidateState, str]] = ..., to_state: _Optional[_Union[_common_pb2.CandidateState, str]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ..., reason: _Optional[str] = ..., attempt_number: _Optional[int] = ...) -> None: ...

class CandidateStatus(_message.Message):
    __slots__ = ("candidate", "sitting_kind", "timeline", "server_time", "attempts_used", "attempt_limit", "login_gate", "waiting_room_gate", "entry_gate", "finish_gate", "status_message", "bound_phone_device_id", "upload", "history", "zero_score_reason")
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    SITTING_KIND_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_USED_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    LOGIN_GATE_FIELD_NUMBER: _ClassVar[int]
    WAITING_ROOM_GATE_FIELD_NUMBER: _ClassVar[int]
    ENTRY_GATE_FIELD_NUMBER: _ClassVar[int]
    FINISH_GATE_FIELD_NUMBER: _ClassVar[int]
    STATUS_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    BOUND_PHONE_DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    ZERO_SCORE_REASON_FIELD_NUMBER: _ClassVar[int]
    candidate: _common_pb2.CandidateSnapshot
    sitting_kind: _common_pb2.SittingKind
    timeline: Timeline
    server_time: _timestamp_pb2.Timestamp
    attempts_used: int
    attempt_limit: int
    login_gate: Gate
    waiting_room_gate: Gate
    entry_gate: Gate
    finish_gate: Gate
    status_message: _common_pb2.LocalizedText
    bound_phone_device_id: str
    upload: _common_pb2.UploadProgress
    history: _containers.RepeatedCompositeFieldContainer[StateTransition]
    zero_score_reason: str
    def __init__(self, candidate: _Optional[_Union[_common_pb2.CandidateSnapshot, _Mapping]] = ..., sitting_kind: _Optional[_Union[_common_pb2.SittingKind, str]] = ..., timeline: _Optional[_Union[Timeline, _Mapping]] = ..., server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempts_used: _Optional[int] = ..., attempt_limit: _Optional[int] = ..., login_gate: _Optional[_Union[Gate, _Mapping]] = ..., waiting_room_gate: _Optional[_Union[Gate, _Mapping]] = ..., entry_gate: _Optional[_Union[Gate, _Mapping]] = ..., finish_gate: _Optional[_Union[Gate, _Mapping]] = ..., status_message: _Optional[_Union[_common_pb2.LocalizedText, _Mapping]] = ..., bound_phone_device_id: _Optional[str] = ..., upload: _Optional[_Union[_common_pb2.UploadProgress, _Mapping]] = ..., history: _Optional[_Iterable[_Union[StateTransition, _Mapping]]] = ..., zero_score_reason: _Optional[str] = ...) -> None: ...

class LoginRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "face_login_token", "device")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    FACE_LOGIN_TOKEN_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    face_login_token: str
    device: _common_pb2.DeviceInfo
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., face_login_token: _Optional[str] = ..., device: _Optional[_Union[_common_pb2.DeviceInfo, _Mapping]] = ...) -> None: ...

class LoginResponse(_message.Message):
    __slots__ = ("status", "sitting", "new_attempt")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SITTING_FIELD_NUMBER: _ClassVar[int]
    NEW_ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    status: CandidateStatus
    sitting: Sitting
    new_attempt: bool
    def __init__(self, status: _Optional[_Union[CandidateStatus, _Mapping]] = ..., sitting: _Optional[_Union[Sitting, _Mapping]] = ..., new_attempt: _Optional[bool] = ...) -> None: ...

class IssueBindCodeRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ...) -> None: ...

class IssueBindCodeResponse(_message.Message):
    __slots__ = ("bind_code", "qr_payload", "expires_at", "rebind")
    BIND_CODE_FIELD_NUMBER: _ClassVar[int]
    QR_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REBIND_FIELD_NUMBER: _ClassVar[int]
    bind_code: str
    qr_payload: str
    expires_at: _timestamp_pb2.Timestamp
    rebind: bool
    def __init__(self, bind_code: _Optional[str] = ..., qr_payload: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rebind: _Optional[bool] = ...) -> None: ...

class BindPhoneRequest(_message.Message):
    __slots__ = ("bind_code", "qr_payload", "device")
    BIND_CODE_FIELD_NUMBER: _ClassVar[int]
    QR_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    bind_code: str
    qr_payload: str
    device: _common_pb2.DeviceInfo
    def __init__(self, bind_code: _Optional[str] = ..., qr_payload: _Optional[str] = ..., device: _Optional[_Union[_common_pb2.DeviceInfo, _Mapping]] = ...) -> None: ...

class BindPhoneResponse(_message.Message):
    __slots__ = ("device_token", "device_token_expires_at", "sitting_id", "candidate_id", "candidate_display_name", "replaced_device_id", "status")
    DEVICE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TOKEN_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    REPLACED_DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    device_token: str
    device_token_expires_at: _timestamp_pb2.Timestamp
    sitting_id: str
    candidate_id: str
    candidate_display_name: str
    replaced_device_id: str
    status: CandidateStatus
    def __init__(self, device_token: _Optional[str] = ..., device_token_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., candidate_display_name: _Optional[str] = ..., replaced_device_id: _Optional[str] = ..., status: _Optional[_Union[CandidateStatus, _Mapping]] = ...) -> None: ...

class EnterWaitingRoomRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ...) -> None: ...

class EnterRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ...) -> None: ...

class EnterResponse(_message.Message):
    __slots__ = ("status", "current")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    status: CandidateStatus
    current: CurrentQuestion
    def __init__(self, status: _Optional[_Union[CandidateStatus, _Mapping]] = ..., current: _Optional[_Union[CurrentQuestion, _Mapping]] = ...) -> None: ...

class ChoiceSet(_message.Message):
    __slots__ = ("option_ids",)
    OPTION_IDS_FIELD_NUMBER: _ClassVar[int]
    option_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, option_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class FillInAnswer(_message.Message):
    __slots__ = ("blanks",)
    BLANKS_FIELD_NUMBER: _ClassVar[int]
    blanks: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, blanks: _Optional[_Iterable[str]] = ...) -> None: ...

class AnswerPayload(_message.Message):
    __slots__ = ("single_choice", "multiple_choice", "fill_in", "essay")
    SINGLE_CHOICE_FIELD_NUMBER: _ClassVar[int]
    MULTIPLE_CHOICE_FIELD_NUMBER: _ClassVar[int]
    FILL_IN_FIELD_NUMBER: _ClassVar[int]
    ESSAY_FIELD_NUMBER: _ClassVar[int]
    single_choice: str
    multiple_choice: ChoiceSet
    fill_in: FillInAnswer
    essay: str
    def __init__(self, single_choice: _Optional[str] = ..., multiple_choice: _Optional[_Union[ChoiceSet, _Mapping]] = ..., fill_in: _Optional[_Union[FillInAnswer, _Mapping]] = ..., essay: _Optional[str] = ...) -> None: ...

class CurrentQuestion(_message.Message):
    __slots__ = ("question", "index", "total", "is_last", "saved_answer", "answer_revision", "ends_at", "server_time")
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    IS_LAST_FIELD_NUMBER: _ClassVar[int]
    SAVED_ANSWER_FIELD_NUMBER: _ClassVar[int]
    ANSWER_REVISION_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    question: Question
    index: int
    total: int
    is_last: bool
    saved_answer: AnswerPayload
    answer_revision: int
    ends_at: _timestamp_pb2.Timestamp
    server_time: _timestamp_pb2.Timestamp
    def __init__(self, question: _Optional[_Union[Question, _Mapping]] = ..., index: _Optional[int] = ..., total: _Optional[int] = ..., is_last: _Optional[bool] = ..., saved_answer: _Optional[_Union[AnswerPayload, _Mapping]] = ..., answer_revision: _Optional[int] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetCurrentQuestionRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ...) -> None: ...

class SaveAnswerRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "question_id", "answer", "client_request_id", "client_time")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TIME_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    question_id: str
    answer: AnswerPayload
    client_request_id: str
    client_time: _timestamp_pb2.Timestamp
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., question_id: _Optional[str] = ..., answer: _Optional[_Union[AnswerPayload, _Mapping]] = ..., client_request_id: _Optional[str] = ..., client_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SaveAnswerResponse(_message.Message):
    __slots__ = ("question_id", "revision", "saved_at", "duplicate")
    QUESTION_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SAVED_AT_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    question_id: str
    revision: int
    saved_at: _timestamp_pb2.Timestamp
    duplicate: bool
    def __init__(self, question_id: _Optional[str] = ..., revision: _Optional[int] = ..., saved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class AdvanceRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "from_question_id", "final_answer", "client_request_id", "client_time")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_QUESTION_ID_FIELD_NUMBER: _ClassVar[int]
    FINAL_ANSWER_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TIME_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    from_question_id: str
    final_answer: AnswerPayload
    client_request_id: str
    client_time: _timestamp_pb2.Timestamp
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., from_question_id: _Optional[str] = ..., final_answer: _Optional[_Union[AnswerPayload, _Mapping]] = ..., client_request_id: _Optional[str] = ..., client_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AdvanceResponse(_message.Message):
    __slots__ = ("locked_question_id", "locked_at", "current", "duplicate")
    LOCKED_QUESTION_ID_FIELD_NUMBER: _ClassVar[int]
    LOCKED_AT_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    locked_question_id: str
    locked_at: _timestamp_pb2.Timestamp
    current: CurrentQuestion
    duplicate: bool
    def __init__(self, locked_question_id: _Optional[str] = ..., locked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., current: _Optional[_Union[CurrentQuestion, _Mapping]] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class OfflineOp(_message.Message):
    __slots__ = ("client_request_id", "client_sequence", "client_time", "save", "advance")
    CLIENT_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TIME_FIELD_NUMBER: _ClassVar[int]
    SAVE_FIELD_NUMBER: _ClassVar[int]
    ADVANCE_FIELD_NUMBER: _ClassVar[int]
    client_request_id: str
    client_sequence: int
    client_time: _timestamp_pb2.Timestamp
    save: OfflineSave
    advance: OfflineAdvance
    def __init__(self, client_request_id: _Optional[str] = ..., client_sequence: _Optional[int] = ..., client_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., save: _Optional[_Union[OfflineSave, _Mapping]] = ..., advance: _Optional[_Union[OfflineAdvance, _Mapping]] = ...) -> None: ...

class OfflineSave(_message.Message):
    __slots__ = ("question_id", "answer")
    QUESTION_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    question_id: str
    answer: AnswerPayload
    def __init__(self, question_id: _Optional[str] = ..., answer: _Optional[_Union[AnswerPayload, _Mapping]] = ...) -> None: ...

class OfflineAdvance(_message.Message):
    __slots__ = ("from_question_id",)
    FROM_QUESTION_ID_FIELD_NUMBER: _ClassVar[int]
    from_question_id: str
    def __init__(self, from_question_id: _Optional[str] = ...) -> None: ...

class SyncOfflineAnswersRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "ops")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    OPS_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    ops: _containers.RepeatedCompositeFieldContainer[OfflineOp]
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., ops: _Optional[_Iterable[_Union[OfflineOp, _Mapping]]] = ...) -> None: ...

class OfflineOpResult(_message.Message):
    __slots__ = ("client_request_id", "outcome", "reason", "message")
    CLIENT_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    client_request_id: str
    outcome: OfflineOpOutcome
    reason: str
    message: _common_pb2.LocalizedText
    def __init__(self, client_request_id: _Optional[str] = ..., outcome: _Optional[_Union[OfflineOpOutcome, str]] = ..., reason: _Optional[str] = ..., message: _Optional[_Union[_common_pb2.LocalizedText, _Mapping]] = ...) -> None: ...

class SyncOfflineAnswersResponse(_message.Message):
    __slots__ = ("results", "current", "clock_offset")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    CLOCK_OFFSET_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[OfflineOpResult]
    current: CurrentQuestion
    clock_offset: _duration_pb2.Duration
    def __init__(self, results: _Optional[_Iterable[_Union[OfflineOpResult, _Mapping]]] = ..., current: _Optional[_Union[CurrentQuestion, _Mapping]] = ..., clock_offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "device_kind", "device_id", "client_time", "sequence", "recording", "pending_offline_ops", "pending_upload_bytes", "current_question_id")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_KIND_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TIME_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    RECORDING_FIELD_NUMBER: _ClassVar[int]
    PENDING_OFFLINE_OPS_FIELD_NUMBER: _ClassVar[int]
    PENDING_UPLOAD_BYTES_FIELD_NUMBER: _ClassVar[int]
    CURRENT_QUESTION_ID_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    device_kind: _common_pb2.DeviceKind
    device_id: str
    client_time: _timestamp_pb2.Timestamp
    sequence: int
    recording: bool
    pending_offline_ops: int
    pending_upload_bytes: int
    current_question_id: str
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., device_kind: _Optional[_Union[_common_pb2.DeviceKind, str]] = ..., device_id: _Optional[str] = ..., client_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sequence: _Optional[int] = ..., recording: _Optional[bool] = ..., pending_offline_ops: _Optional[int] = ..., pending_upload_bytes: _Optional[int] = ..., current_question_id: _Optional[str] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ("server_time", "state", "next_heartbeat_in", "clock_offset", "resync_required", "ends_at", "desktop_online", "phone_online")
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    NEXT_HEARTBEAT_IN_FIELD_NUMBER: _ClassVar[int]
    CLOCK_OFFSET_FIELD_NUMBER: _ClassVar[int]
    RESYNC_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    DESKTOP_ONLINE_FIELD_NUMBER: _ClassVar[int]
    PHONE_ONLINE_FIELD_NUMBER: _ClassVar[int]
    server_time: _timestamp_pb2.Timestamp
    state: _common_pb2.CandidateState
    next_heartbeat_in: _duration_pb2.Duration
    clock_offset: _duration_pb2.Duration
    resync_required: bool
    ends_at: _timestamp_pb2.Timestamp
    desktop_online: bool
    phone_online: bool
    def __init__(self, server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[_common_pb2.CandidateState, str]] = ..., next_heartbeat_in: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., clock_offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., resync_required: _Optional[bool] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., desktop_online: _Optional[bool] = ..., phone_online: _Optional[bool] = ...) -> None: ...

class ReportTelemetryRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "device_kind", "device_id", "samples")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_KIND_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    device_kind: _common_pb2.DeviceKind
    device_id: str
    samples: _containers.RepeatedCompositeFieldContainer[_common_pb2.TelemetrySample]
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., device_kind: _Optional[_Union[_common_pb2.DeviceKind, str]] = ..., device_id: _Optional[str] = ..., samples: _Optional[_Iterable[_Union[_common_pb2.TelemetrySample, _Mapping]]] = ...) -> None: ...

class ReportTelemetryResponse(_message.Message):
    __slots__ = ("accepted", "duplicates", "server_time")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    duplicates: int
    server_time: _timestamp_pb2.Timestamp
    def __init__(self, accepted: _Optional[int] = ..., duplicates: _Optional[int] = ..., server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SendHelpMessageRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "text", "client_message_id", "client_time")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TIME_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    text: str
    client_message_id: str
    client_time: _timestamp_pb2.Timestamp
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., text: _Optional[str] = ..., client_message_id: _Optional[str] = ..., client_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SendHelpMessageResponse(_message.Message):
    __slots__ = ("message", "duplicate")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    message: _common_pb2.ChatMessage
    duplicate: bool
    def __init__(self, message: _Optional[_Union[_common_pb2.ChatMessage, _Mapping]] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class FinishRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "client_request_id")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    client_request_id: str
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., client_request_id: _Optional[str] = ...) -> None: ...

class StaffTransitionRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "to_state", "reason", "expected_from_state", "ticket_ref", "clear_zero_score", "client_request_id")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    TO_STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_FROM_STATE_FIELD_NUMBER: _ClassVar[int]
    TICKET_REF_FIELD_NUMBER: _ClassVar[int]
    CLEAR_ZERO_SCORE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    to_state: _common_pb2.CandidateState
    reason: str
    expected_from_state: _common_pb2.CandidateState
    ticket_ref: str
    clear_zero_score: bool
    client_request_id: str
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., to_state: _Optional[_Union[_common_pb2.CandidateState, str]] = ..., reason: _Optional[str] = ..., expected_from_state: _Optional[_Union[_common_pb2.CandidateState, str]] = ..., ticket_ref: _Optional[str] = ..., clear_zero_score: _Optional[bool] = ..., client_request_id: _Optional[str] = ...) -> None: ...

class ExportAnswerSheetRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "attempt_number", "allow_partial")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ALLOW_PARTIAL_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    attempt_number: int
    allow_partial: bool
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., attempt_number: _Optional[int] = ..., allow_partial: _Optional[bool] = ...) -> None: ...

class StreamAnswerSheetsRequest(_message.Message):
    __slots__ = ("sitting_id", "room_ids", "allow_partial")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_IDS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_PARTIAL_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    room_ids: _containers.RepeatedScalarFieldContainer[str]
    allow_partial: bool
    def __init__(self, sitting_id: _Optional[str] = ..., room_ids: _Optional[_Iterable[str]] = ..., allow_partial: _Optional[bool] = ...) -> None: ...

class AnswerRecord(_message.Message):
    __slots__ = ("question_id", "position", "type", "answer", "revision", "saved_at", "client_time", "locked_at", "source", "flagged")
    QUESTION_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SAVED_AT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TIME_FIELD_NUMBER: _ClassVar[int]
    LOCKED_AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    FLAGGED_FIELD_NUMBER: _ClassVar[int]
    question_id: str
    position: int
    type: QuestionType
    answer: AnswerPayload
    revision: int
    saved_at: _timestamp_pb2.Timestamp
    client_time: _timestamp_pb2.Timestamp
    locked_at: _timestamp_pb2.Timestamp
    source: AnswerSource
    flagged: _containers.RepeatedCompositeFieldContainer[FlaggedAnswer]
    def __init__(self, question_id: _Optional[str] = ..., position: _Optional[int] = ..., type: _Optional[_Union[QuestionType, str]] = ..., answer: _Optional[_Union[AnswerPayload, _Mapping]] = ..., revision: _Optional[int] = ..., saved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., client_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., locked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[_Union[AnswerSource, str]] = ..., flagged: _Optional[_Iterable[_Union[FlaggedAnswer, _Mapping]]] = ...) -> None: ...

class FlaggedAnswer(_message.Message):
    __slots__ = ("answer", "client_time", "received_at", "reason")
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TIME_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    answer: AnswerPayload
    client_time: _timestamp_pb2.Timestamp
    received_at: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, answer: _Optional[_Union[AnswerPayload, _Mapping]] = ..., client_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class AnswerSheet(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "attempt_number", "sitting_kind", "state", "final", "answers", "zero_score", "zero_score_reason", "exported_at", "sha256")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SITTING_KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_FIELD_NUMBER: _ClassVar[int]
    ZERO_SCORE_FIELD_NUMBER: _ClassVar[int]
    ZERO_SCORE_REASON_FIELD_NUMBER: _ClassVar[int]
    EXPORTED_AT_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    attempt_number: int
    sitting_kind: _common_pb2.SittingKind
    state: _common_pb2.CandidateState
    final: bool
    answers: _containers.RepeatedCompositeFieldContainer[AnswerRecord]
    zero_score: bool
    zero_score_reason: str
    exported_at: _timestamp_pb2.Timestamp
    sha256: bytes
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., attempt_number: _Optional[int] = ..., sitting_kind: _Optional[_Union[_common_pb2.SittingKind, str]] = ..., state: _Optional[_Union[_common_pb2.CandidateState, str]] = ..., final: _Optional[bool] = ..., answers: _Optional[_Iterable[_Union[AnswerRecord, _Mapping]]] = ..., zero_score: _Optional[bool] = ..., zero_score_reason: _Optional[str] = ..., exported_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sha256: _Optional[bytes] = ...) -> None: ...

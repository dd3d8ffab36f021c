import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from proctor.common.v1 import common_pb2 as _common_pb2
from proctor.events.v1 import meta_pb2 as _meta_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SessionEventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_EVENT_KIND_UNSPECIFIED: _ClassVar[SessionEventKind]
    SESSION_EVENT_KIND_TRANSITION: _ClassVar[SessionEventKind]
    SESSION_EVENT_KIND_CANDIDATE_UPDATED: _ClassVar[SessionEventKind]
    SESSION_EVENT_KIND_PHONE_BOUND: _ClassVar[SessionEventKind]
    SESSION_EVENT_KIND_PHONE_REBOUND: _ClassVar[SessionEventKind]
    SESSION_EVENT_KIND_DEVICE_OFFLINE: _ClassVar[SessionEventKind]
    SESSION_EVENT_KIND_DEVICE_ONLINE: _ClassVar[SessionEventKind]
    SESSION_EVENT_KIND_ANSWERS_FLAGGED: _ClassVar[SessionEventKind]
    SESSION_EVENT_KIND_ZERO_SCORE_RECORDED: _ClassVar[SessionEventKind]
    SESSION_EVENT_KIND_ATTEMPT_STARTED: _ClassVar[SessionEventKind]
SESSION_EVENT_KIND_UNSPECIFIED: SessionEventKind
SESSION_EVENT_KIND_TRANSITION: SessionEventKind
SESSION_EVENT_KIND_CANDIDATE_UPDATED: SessionEventKind
SESSION_EVENT_KIND_PHONE_BOUND: SessionEventKind
SESSION_EVENT_KIND_PHONE_REBOUND: SessionEventKind
SESSION_EVENT_KIND_DEVICE_OFFLINE: SessionEventKind
SESSION_EVENT_KIND_DEVICE_ONLINE: SessionEventKind
SESSION_EVENT_KIND_ANSWERS_FLAGGED: SessionEventKind
SESSION_EVENT_KIND_ZERO_SCORE_RECORDED: SessionEventKind
SESSION_EVENT_KIND_ATTEMPT_STARTED: SessionEventKind

class PhoneBinding(_message.Message):
    __slots__ = ("device_id", "replaced_device_id", "device")
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    REPLACED_DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    replaced_device_id: str
    device: _common_pb2.DeviceInfo
    def __init__(self, device_id: _Optional[str] = ..., replaced_device_id: _Optional[str] = ..., device: _Optional[_Union[_common_pb2.DeviceInfo, _Mapping]] = ...) -> None: ...

class DeviceConnectivity(_message.Message):
    __slots__ = ("device_kind", "device_id", "last_seen", "offline_for")
    DEVICE_KIND_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    OFFLINE_FOR_FIELD_NUMBER: _ClassVar[int]
    device_kind: _common_pb2.DeviceKind
    device_id: str
    last_seen: _timestamp_pb2.Timestamp
    offline_for: _duration_pb2.Duration
    def __init__(self, device_kind: _Optional[_Union[_common_pb2.DeviceKind, str]] = ..., device_id: _Optional[str] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., offline_for: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class AbandonDetail(_message.Message):
    __slots__ = ("last_heartbeat_at", "grace", "zero_score", "policy")
    LAST_HEARTBEAT_AT_FIELD_NUMBER: _ClassVar[int]
    GRACE_FIELD_NUMBER: _ClassVar[int]
    ZERO_SCORE_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    last_heartbeat_at: _timestamp_pb2.Timestamp
    grace: _duration_pb2.Duration
    zero_score: bool
    policy: str
    def __init__(self, last_heartbeat_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., grace: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., zero_score: _Optional[bool] = ..., policy: _Optional[str] = ...) -> None: ...

class OfflineSyncDetail(_message.Message):
    __slots__ = ("applied", "duplicates", "flagged", "rejected", "flagged_question_ids")
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    FLAGGED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    FLAGGED_QUESTION_IDS_FIELD_NUMBER: _ClassVar[int]
    applied: int
    duplicates: int
    flagged: int
    rejected: int
    flagged_question_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, applied: _Optional[int] = ..., duplicates: _Optional[int] = ..., flagged: _Optional[int] = ..., rejected: _Optional[int] = ..., flagged_question_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SessionEvent(_message.Message):
    __slots__ = ("meta", "kind", "from_state", "to_state", "reason", "actor", "note", "room_id", "display_name", "sitting_kind", "attempt_number", "state_version", "phone_binding", "connectivity", "abandon", "offline_sync")
    META_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    FROM_STATE_FIELD_NUMBER: _ClassVar[int]
    TO_STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    SITTING_KIND_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    STATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    PHONE_BINDING_FIELD_NUMBER: _ClassVar[int]
    CONNECTIVITY_FIELD_NUMBER: _ClassVar[int]
    ABANDON_FIELD_NUMBER: _ClassVar[int]
    OFFLINE_SYNC_FIELD_NUMBER: _ClassVar[int]
    meta: _meta_pb2.EventMeta
    kind: SessionEventKind
    from_state: _common_pb2.CandidateState
    to_state: _common_pb2.CandidateState
    reason: str
    actor: _common_pb2.Actor
    note: str
    room_id: str
    display_name: str
    sitting_kind: _common_pb2.SittingKind
    attempt_number: int
    state_version: int
    phone_binding: PhoneBinding
    connectivity: DeviceConnectivity
    abandon: AbandonDetail
    offline_sync: OfflineSyncDetail
    def __init__(self, meta: _Optional[_Union[_meta_pb2.EventMeta, _Mapping]] = ..., kind: _Optional[_Union[SessionEventKind, str]] = ..., from_state: _Optional[_Union[_common_pb2.CandidateState, str]] = ..., to_state: _Optional[_Union[_common_pb2.CandidateState, str]] = ..., reason: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ..., note: _Optional[str] = ..., room_id: _Optional[str] = ..., display_name: _Optional[str] = ..., sitting_kind: _Optional[_Union[_common_pb2.SittingKind, str]] = ..., attempt_number: _Optional[int] = ..., state_version: _Optional[int] = ..., phone_binding: _Optional[_Union[PhoneBinding, _Mapping]] = ..., connectivity: _Optional[_Union[DeviceConnectivity, _Mapping]] = ..., abandon: _Optional[_Union[AbandonDetail, _Mapping]] = ..., offline_sync: _Optional[_Union[OfflineSyncDetail, _Mapping]] = ...) -> None: ...

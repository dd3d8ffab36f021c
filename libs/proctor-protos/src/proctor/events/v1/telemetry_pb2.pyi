import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from proctor.common.v1 import common_pb2 as _common_pb2
from proctor.events.v1 import meta_pb2 as _meta_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClientTelemetry(_message.Message):
    __slots__ = ("meta", "device_kind", "device_id", "room_id", "attempt_number", "state", "samples", "received_at", "clock_offset")
    META_FIELD_NUMBER: _ClassVar[int]
    DEVICE_KIND_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    CLOCK_OFFSET_FIELD_NUMBER: _ClassVar[int]
    meta: _meta_pb2.EventMeta
    device_kind: _common_pb2.DeviceKind
    device_id: str
    room_id: str
    attempt_number: int
    state: _common_pb2.CandidateState
    samples: _containers.RepeatedCompositeFieldContainer[_common_pb2.TelemetrySample]
    received_at: _timestamp_pb2.Timestamp
    clock_offset: _duration_pb2.Duration
    def __init__(self, meta: _Optional[_Union[_meta_pb2.EventMeta, _Mapping]] = ..., device_kind: _Optional[_Union[_common_pb2.DeviceKind, str]] = ..., device_id: _Optional[str] = ..., room_id: _Optional[str] = ..., attempt_number: _Optional[int] = ..., state: _Optional[_Union[_common_pb2.CandidateState, str]] = ..., samples: _Optional[_Iterable[_Union[_common_pb2.TelemetrySample, _Mapping]]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., clock_offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

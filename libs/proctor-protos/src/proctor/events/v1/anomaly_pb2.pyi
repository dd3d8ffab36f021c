import datetime

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

class SignalPhase(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGNAL_PHASE_UNSPECIFIED: _ClassVar[SignalPhase]
    SIGNAL_PHASE_IDLE: _ClassVar[SignalPhase]
    SIGNAL_PHASE_PENDING: _ClassVar[SignalPhase]
    SIGNAL_PHASE_OPEN: _ClassVar[SignalPhase]
    SIGNAL_PHASE_CLEARING: _ClassVar[SignalPhase]
SIGNAL_PHASE_UNSPECIFIED: SignalPhase
SIGNAL_PHASE_IDLE: SignalPhase
SIGNAL_PHASE_PENDING: SignalPhase
SIGNAL_PHASE_OPEN: SignalPhase
SIGNAL_PHASE_CLEARING: SignalPhase

class SignalState(_message.Message):
    __slots__ = ("kind", "phase", "since", "open_incident_id", "incident_revision", "peak_score", "peak_at")
    KIND_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    OPEN_INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_REVISION_FIELD_NUMBER: _ClassVar[int]
    PEAK_SCORE_FIELD_NUMBER: _ClassVar[int]
    PEAK_AT_FIELD_NUMBER: _ClassVar[int]
    kind: _common_pb2.IncidentKind
    phase: SignalPhase
    since: _timestamp_pb2.Timestamp
    open_incident_id: str
    incident_revision: int
    peak_score: float
    peak_at: _timestamp_pb2.Timestamp
    def __init__(self, kind: _Optional[_Union[_common_pb2.IncidentKind, str]] = ..., phase: _Optional[_Union[SignalPhase, str]] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., open_incident_id: _Optional[str] = ..., incident_revision: _Optional[int] = ..., peak_score: _Optional[float] = ..., peak_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PoseCalibration(_message.Message):
    __slots__ = ("neutral_yaw_deg", "neutral_pitch_deg", "samples", "complete")
    NEUTRAL_YAW_DEG_FIELD_NUMBER: _ClassVar[int]
    NEUTRAL_PITCH_DEG_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    neutral_yaw_deg: float
    neutral_pitch_deg: float
    samples: int
    complete: bool
    def __init__(self, neutral_yaw_deg: _Optional[float] = ..., neutral_pitch_deg: _Optional[float] = ..., samples: _Optional[int] = ..., complete: _Optional[bool] = ...) -> None: ...

class AnomalyStateSnapshot(_message.Message):
    __slots__ = ("meta", "model_pack_id", "model_pack_version", "signals", "calibration", "last_frame_time", "last_identity_check", "frames_analysed")
    META_FIELD_NUMBER: _ClassVar[int]
    MODEL_PACK_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_PACK_VERSION_FIELD_NUMBER: _ClassVar[int]
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_FIELD_NUMBER: _ClassVar[int]
    LAST_FRAME_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_IDENTITY_CHECK_FIELD_NUMBER: _ClassVar[int]
    FRAMES_ANALYSED_FIELD_NUMBER: _ClassVar[int]
    meta: _meta_pb2.EventMeta
    model_pack_id: str
    model_pack_version: str
    signals: _containers.RepeatedCompositeFieldContainer[SignalState]
    calibration: PoseCalibration
    last_frame_time: _timestamp_pb2.Timestamp
    last_identity_check: _timestamp_pb2.Timestamp
    frames_analysed: int
    def __init__(self, meta: _Optional[_Union[_meta_pb2.EventMeta, _Mapping]] = ..., model_pack_id: _Optional[str] = ..., model_pack_version: _Optional[str] = ..., signals: _Optional[_Iterable[_Union[SignalState, _Mapping]]] = ..., calibration: _Optional[_Union[PoseCalibration, _Mapping]] = ..., last_frame_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_identity_check: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., frames_analysed: _Optional[int] = ...) -> None: ...

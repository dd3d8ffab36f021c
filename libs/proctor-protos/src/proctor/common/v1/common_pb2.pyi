import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ActorKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTOR_KIND_UNSPECIFIED: _ClassVar[ActorKind]
    ACTOR_KIND_CANDIDATE: _ClassVar[ActorKind]
    ACTOR_KIND_DEVICE: _ClassVar[ActorKind]
    ACTOR_KIND_PROCTOR: _ClassVar[ActorKind]
    ACTOR_KIND_STAFF: _ClassVar[ActorKind]
    ACTOR_KIND_SERVICE: _ClassVar[ActorKind]
    ACTOR_KIND_SYSTEM: _ClassVar[ActorKind]

class DeviceKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEVICE_KIND_UNSPECIFIED: _ClassVar[DeviceKind]
    DEVICE_KIND_DESKTOP: _ClassVar[DeviceKind]
    DEVICE_KIND_PHONE: _ClassVar[DeviceKind]

class SittingKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SITTING_KIND_UNSPECIFIED: _ClassVar[SittingKind]
    SITTING_KIND_FORMAL: _ClassVar[SittingKind]
    SITTING_KIND_MOCK: _ClassVar[SittingKind]

class CandidateState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CANDIDATE_STATE_UNSPECIFIED: _ClassVar[CandidateState]
    CANDIDATE_STATE_REGISTERED: _ClassVar[CandidateState]
    CANDIDATE_STATE_LOGGED_IN: _ClassVar[CandidateState]
    CANDIDATE_STATE_PHONE_BOUND: _ClassVar[CandidateState]
    CANDIDATE_STATE_ROOM_SCANNED: _ClassVar[CandidateState]
    CANDIDATE_STATE_WAITING: _ClassVar[CandidateState]
    CANDIDATE_STATE_IN_EXAM: _ClassVar[CandidateState]
    CANDIDATE_STATE_FINISHED: _ClassVar[CandidateState]
    CANDIDATE_STATE_UPLOADED: _ClassVar[CandidateState]
    CANDIDATE_STATE_ABSENT: _ClassVar[CandidateState]
    CANDIDATE_STATE_ABANDONED: _ClassVar[CandidateState]

class StreamKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STREAM_KIND_UNSPECIFIED: _ClassVar[StreamKind]
    STREAM_KIND_DESKTOP_CAMERA: _ClassVar[StreamKind]
    STREAM_KIND_DESKTOP_SCREEN: _ClassVar[StreamKind]
    STREAM_KIND_PHONE_EVIDENCE: _ClassVar[StreamKind]
    STREAM_KIND_PHONE_ROOM_SCAN: _ClassVar[StreamKind]

class MediaContainer(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEDIA_CONTAINER_UNSPECIFIED: _ClassVar[MediaContainer]
    MEDIA_CONTAINER_FMP4: _ClassVar[MediaContainer]
    MEDIA_CONTAINER_WEBM: _ClassVar[MediaContainer]
    MEDIA_CONTAINER_MPEG_TS: _ClassVar[MediaContainer]
    MEDIA_CONTAINER_MP4: _ClassVar[MediaContainer]
    MEDIA_CONTAINER_MATROSKA: _ClassVar[MediaContainer]

class VideoCodec(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VIDEO_CODEC_UNSPECIFIED: _ClassVar[VideoCodec]
    VIDEO_CODEC_NONE: _ClassVar[VideoCodec]
    VIDEO_CODEC_H264: _ClassVar[VideoCodec]
    VIDEO_CODEC_H265: _ClassVar[VideoCodec]
    VIDEO_CODEC_VP8: _ClassVar[VideoCodec]
    VIDEO_CODEC_VP9: _ClassVar[VideoCodec]
    VIDEO_CODEC_AV1: _ClassVar[VideoCodec]

class AudioCodec(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIO_CODEC_UNSPECIFIED: _ClassVar[AudioCodec]
    AUDIO_CODEC_NONE: _ClassVar[AudioCodec]
    AUDIO_CODEC_AAC: _ClassVar[AudioCodec]
    AUDIO_CODEC_OPUS: _ClassVar[AudioCodec]
    AUDIO_CODEC_PCM: _ClassVar[AudioCodec]

class TelemetryKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TELEMETRY_KIND_UNSPECIFIED: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_DISPLAY_COUNT: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_FOCUS_LOST: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_FOCUS_GAINED: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_APP_SWITCH: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_SCREENSHOT_ATTEMPT: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_SCREEN_RECORDING_ATTEMPT: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_VIRTUAL_MACHINE_DETECTED: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_REMOTE_DESKTOP_DETECTED: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_PROHIBITED_PROCESS: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_NETWORK_OFFLINE: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_NETWORK_ONLINE: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_CAMERA_UNAVAILABLE: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_MICROPHONE_UNAVAILABLE: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_RECORDING_STARTED: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_RECORDING_STOPPED: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_APP_BACKGROUNDED: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_APP_FOREGROUNDED: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_BLANK_SHEET_SHOWN: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_DEVICE_OFFLINE: _ClassVar[TelemetryKind]
    TELEMETRY_KIND_DEVICE_ONLINE: _ClassVar[TelemetryKind]

class TelemetrySource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TELEMETRY_SOURCE_UNSPECIFIED: _ClassVar[TelemetrySource]
    TELEMETRY_SOURCE_CLIENT: _ClassVar[TelemetrySource]
    TELEMETRY_SOURCE_SERVER: _ClassVar[TelemetrySource]

class IncidentKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INCIDENT_KIND_UNSPECIFIED: _ClassVar[IncidentKind]
    INCIDENT_KIND_NO_FACE: _ClassVar[IncidentKind]
    INCIDENT_KIND_MULTIPLE_FACES: _ClassVar[IncidentKind]
    INCIDENT_KIND_FACE_MASKED: _ClassVar[IncidentKind]
    INCIDENT_KIND_FACE_OCCLUDED: _ClassVar[IncidentKind]
    INCIDENT_KIND_CAMERA_COVERED: _ClassVar[IncidentKind]
    INCIDENT_KIND_TOO_DARK: _ClassVar[IncidentKind]
    INCIDENT_KIND_GAZE_AWAY: _ClassVar[IncidentKind]
    INCIDENT_KIND_IDENTITY_MISMATCH: _ClassVar[IncidentKind]
    INCIDENT_KIND_TALKING: _ClassVar[IncidentKind]
    INCIDENT_KIND_SECOND_MONITOR: _ClassVar[IncidentKind]
    INCIDENT_KIND_FOCUS_LOST: _ClassVar[IncidentKind]
    INCIDENT_KIND_SCREENSHOT_ATTEMPT: _ClassVar[IncidentKind]
    INCIDENT_KIND_VIRTUAL_MACHINE: _ClassVar[IncidentKind]
    INCIDENT_KIND_REMOTE_DESKTOP: _ClassVar[IncidentKind]
    INCIDENT_KIND_PROHIBITED_PROCESS: _ClassVar[IncidentKind]
    INCIDENT_KIND_PHONE_CANDIDATE_NOT_VISIBLE: _ClassVar[IncidentKind]
    INCIDENT_KIND_PHONE_CAMERA_MOVED: _ClassVar[IncidentKind]
    INCIDENT_KIND_PHONE_CAMERA_COVERED: _ClassVar[IncidentKind]
    INCIDENT_KIND_SECOND_DEVICE_LOGIN: _ClassVar[IncidentKind]
    INCIDENT_KIND_ABANDONED: _ClassVar[IncidentKind]
    INCIDENT_KIND_NETWORK_OFFLINE: _ClassVar[IncidentKind]
    INCIDENT_KIND_PHONE_OFFLINE: _ClassVar[IncidentKind]
    INCIDENT_KIND_RECORDING_INTERRUPTED: _ClassVar[IncidentKind]
    INCIDENT_KIND_OFFLINE_ANSWER_FLAGGED: _ClassVar[IncidentKind]
    INCIDENT_KIND_UPLOAD_INCOMPLETE: _ClassVar[IncidentKind]
    INCIDENT_KIND_MEDIA_INVALID: _ClassVar[IncidentKind]
    INCIDENT_KIND_OTHER: _ClassVar[IncidentKind]

class Severity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEVERITY_UNSPECIFIED: _ClassVar[Severity]
    SEVERITY_INFO: _ClassVar[Severity]
    SEVERITY_LOW: _ClassVar[Severity]
    SEVERITY_MEDIUM: _ClassVar[Severity]
    SEVERITY_HIGH: _ClassVar[Severity]
    SEVERITY_CRITICAL: _ClassVar[Severity]

class IncidentSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INCIDENT_SOURCE_UNSPECIFIED: _ClassVar[IncidentSource]
    INCIDENT_SOURCE_DETECTOR: _ClassVar[IncidentSource]
    INCIDENT_SOURCE_TELEMETRY: _ClassVar[IncidentSource]
    INCIDENT_SOURCE_SESSION: _ClassVar[IncidentSource]
    INCIDENT_SOURCE_AUTH: _ClassVar[IncidentSource]
    INCIDENT_SOURCE_MEDIA: _ClassVar[IncidentSource]

class IncidentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INCIDENT_STATUS_UNSPECIFIED: _ClassVar[IncidentStatus]
    INCIDENT_STATUS_NEW: _ClassVar[IncidentStatus]
    INCIDENT_STATUS_ACKNOWLEDGED: _ClassVar[IncidentStatus]
    INCIDENT_STATUS_ESCALATED: _ClassVar[IncidentStatus]
    INCIDENT_STATUS_RESOLVED: _ClassVar[IncidentStatus]

class Verdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERDICT_UNSPECIFIED: _ClassVar[Verdict]
    VERDICT_CONFIRMED: _ClassVar[Verdict]
    VERDICT_FALSE_ALARM: _ClassVar[Verdict]
    VERDICT_NEEDS_REVIEW: _ClassVar[Verdict]

class ChatDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHAT_DIRECTION_UNSPECIFIED: _ClassVar[ChatDirection]
    CHAT_DIRECTION_CANDIDATE_TO_PROCTOR: _ClassVar[ChatDirection]
    CHAT_DIRECTION_PROCTOR_TO_CANDIDATE: _ClassVar[ChatDirection]

class NoticeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTICE_KIND_UNSPECIFIED: _ClassVar[NoticeKind]
    NOTICE_KIND_WARNING: _ClassVar[NoticeKind]
    NOTICE_KIND_HELP_REPLY: _ClassVar[NoticeKind]
    NOTICE_KIND_UPLOAD_STATUS: _ClassVar[NoticeKind]
    NOTICE_KIND_INFO: _ClassVar[NoticeKind]
ACTOR_KIND_UNSPECIFIED: ActorKind
ACTOR_KIND_CANDIDATE: ActorKind
ACTOR_KIND_DEVICE: ActorKind
ACTOR_KIND_PROCTOR: ActorKind
ACTOR_KIND_STAFF: ActorKind
ACTOR_KIND_SERVICE: ActorKind
ACTOR_KIND_SYSTEM: ActorKind
DEVICE_KIND_UNSPECIFIED: DeviceKind
DEVICE_KIND_DESKTOP: DeviceKind
DEVICE_KIND_PHONE: DeviceKind
SITTING_KIND_UNSPECIFIED: SittingKind
SITTING_KIND_FORMAL: SittingKind
SITTING_KIND_MOCK: SittingKind
CANDIDATE_STATE_UNSPECIFIED: CandidateState
CANDIDATE_STATE_REGISTERED: CandidateState
CANDIDATE_STATE_LOGGED_IN: CandidateState
CANDIDATE_STATE_PHONE_BOUND: CandidateState
CANDIDATE_STATE_ROOM_SCANNED: CandidateState
CANDIDATE_STATE_WAITING: CandidateState
CANDIDATE_STATE_IN_EXAM: CandidateState
CANDIDATE_STATE_FINISHED: CandidateState
CANDIDATE_STATE_UPLOADED: CandidateState
CANDIDATE_STATE_ABSENT: CandidateState
CANDIDATE_STATE_ABANDONED: CandidateState
STREAM_KIND_UNSPECIFIED: StreamKind
STREAM_KIND_DESKTOP_CAMERA: StreamKind
STREAM_KIND_DESKTOP_SCREEN: StreamKind
STREAM_KIND_PHONE_EVIDENCE: StreamKind
STREAM_KIND_PHONE_ROOM_SCAN: StreamKind
MEDIA_CONTAINER_UNSPECIFIED: MediaContainer
MEDIA_CONTAINER_FMP4: MediaContainer
MEDIA_CONTAINER_WEBM: MediaContainer
MEDIA_CONTAINER_MPEG_TS: MediaContainer
MEDIA_CONTAINER_MP4: MediaContainer
MEDIA_CONTAINER_MATROSKA: MediaContainer
VIDEO_CODEC_UNSPECIFIED: VideoCodec
VIDEO_CODEC_NONE: VideoCodec
VIDEO_CODEC_H264: VideoCodec
VIDEO_CODEC_H265: VideoCodec
VIDEO_CODEC_VP8: VideoCodec
VIDEO_CODEC_VP9: VideoCodec
VIDEO_CODEC_AV1: VideoCodec
AUDIO_CODEC_UNSPECIFIED: AudioCodec
AUDIO_CODEC_NONE: AudioCodec
AUDIO_CODEC_AAC: AudioCodec
AUDIO_CODEC_OPUS: AudioCodec
AUDIO_CODEC_PCM: AudioCodec
TELEMETRY_KIND_UNSPECIFIED: TelemetryKind
TELEMETRY_KIND_DISPLAY_COUNT: TelemetryKind
TELEMETRY_KIND_FOCUS_LOST: TelemetryKind
TELEMETRY_KIND_FOCUS_GAINED: TelemetryKind
TELEMETRY_KIND_APP_SWITCH: TelemetryKind
TELEMETRY_KIND_SCREENSHOT_ATTEMPT: TelemetryKind
TELEMETRY_KIND_SCREEN_RECORDING_ATTEMPT: TelemetryKind
TELEMETRY_KIND_VIRTUAL_MACHINE_DETECTED: TelemetryKind
TELEMETRY_KIND_REMOTE_DESKTOP_DETECTED: TelemetryKind
TELEMETRY_KIND_PROHIBITED_PROCESS: TelemetryKind
TELEMETRY_KIND_NETWORK_OFFLINE: TelemetryKind
TELEMETRY_KIND_NETWORK_ONLINE: TelemetryKind
TELEMETRY_KIND_CAMERA_UNAVAILABLE: TelemetryKind
TELEMETRY_KIND_MICROPHONE_UNAVAILABLE: TelemetryKind
TELEMETRY_KIND_RECORDING_STARTED: TelemetryKind
TELEMETRY_KIND_RECORDING_STOPPED: TelemetryKind
TELEMETRY_KIND_APP_BACKGROUNDED: TelemetryKind
TELEMETRY_KIND_APP_FOREGROUNDED: TelemetryKind
TELEMETRY_KIND_BLANK_SHEET_SHOWN: TelemetryKind
TELEMETRY_KIND_DEVICE_OFFLINE: TelemetryKind
TELEMETRY_KIND_DEVICE_ONLINE: TelemetryKind
TELEMETRY_SOURCE_UNSPECIFIED: TelemetrySource
TELEMETRY_SOURCE_CLIENT: TelemetrySource
TELEMETRY_SOURCE_SERVER: TelemetrySource
INCIDENT_KIND_UNSPECIFIED: IncidentKind
INCIDENT_KIND_NO_FACE: IncidentKind
INCIDENT_KIND_MULTIPLE_FACES: IncidentKind
INCIDENT_KIND_FACE_MASKED: IncidentKind
INCIDENT_KIND_FACE_OCCLUDED: IncidentKind
INCIDENT_KIND_CAMERA_COVERED: IncidentKind
INCIDENT_KIND_TOO_DARK: IncidentKind
INCIDENT_KIND_GAZE_AWAY: IncidentKind
INCIDENT_KIND_IDENTITY_MISMATCH: IncidentKind
INCIDENT_KIND_TALKING: IncidentKind
INCIDENT_KIND_SECOND_MONITOR: IncidentKind
INCIDENT_KIND_FOCUS_LOST: IncidentKind
INCIDENT_KIND_SCREENSHOT_ATTEMPT: IncidentKind
INCIDENT_KIND_VIRTUAL_MACHINE: IncidentKind
INCIDENT_KIND_REMOTE_DESKTOP: IncidentKind
INCIDENT_KIND_PROHIBITED_PROCESS: IncidentKind
INCIDENT_KIND_PHONE_CANDIDATE_NOT_VISIBLE: IncidentKind
INCIDENT_KIND_PHONE_CAMERA_MOVED: IncidentKind
INCIDENT_KIND_PHONE_CAMERA_COVERED: IncidentKind
INCIDENT_KIND_SECOND_DEVICE_LOGIN: IncidentKind
INCIDENT_KIND_ABANDONED: IncidentKind
INCIDENT_KIND_NETWORK_OFFLINE: IncidentKind
INCIDENT_KIND_PHONE_OFFLINE: IncidentKind
INCIDENT_KIND_RECORDING_INTERRUPTED: IncidentKind
INCIDENT_KIND_OFFLINE_ANSWER_FLAGGED: IncidentKind
INCIDENT_KIND_UPLOAD_INCOMPLETE: IncidentKind
INCIDENT_KIND_MEDIA_INVALID: IncidentKind
INCIDENT_KIND_OTHER: IncidentKind
SEVERITY_UNSPECIFIED: Severity
SEVERITY_INFO: Severity
SEVERITY_LOW: Severity
SEVERITY_MEDIUM: Severity
SEVERITY_HIGH: Severity
SEVERITY_CRITICAL: Severity
INCIDENT_SOURCE_UNSPECIFIED: IncidentSource
INCIDENT_SOURCE_DETECTOR: IncidentSource
INCIDENT_SOURCE_TELEMETRY: IncidentSource
INCIDENT_SOURCE_SESSION: IncidentSource
INCIDENT_SOURCE_AUTH: IncidentSource
INCIDENT_SOURCE_MEDIA: IncidentSource
INCIDENT_STATUS_UNSPECIFIED: IncidentStatus
INCIDENT_STATUS_NEW: IncidentStatus
INCIDENT_STATUS_ACKNOWLEDGED: IncidentStatus
INCIDENT_STATUS_ESCALATED: IncidentStatus
INCIDENT_STATUS_RESOLVED: IncidentStatus
VERDICT_UNSPECIFIED: Verdict
VERDICT_CONFIRMED: Verdict
VERDICT_FALSE_ALARM: Verdict
VERDICT_NEEDS_REVIEW: Verdict
CHAT_DIRECTION_UNSPECIFIED: ChatDirection
CHAT_DIRECTION_CANDIDATE_TO_PROCTOR: ChatDirection
CHAT_DIRECTION_PROCTOR_TO_CANDIDATE: ChatDirection
NOTICE_KIND_UNSPECIFIED: NoticeKind
NOTICE_KIND_WARNING: NoticeKind
NOTICE_KIND_HELP_REPLY: NoticeKind
NOTICE_KIND_UPLOAD_STATUS: NoticeKind
NOTICE_KIND_INFO: NoticeKind

class ErrorDetail(_message.Message):
    __slots__ = ("reason", "message_en", "message_zh", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_EN_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ZH_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    reason: str
    message_en: str
    message_zh: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, reason: _Optional[str] = ..., message_en: _Optional[str] = ..., message_zh: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ItemError(_message.Message):
    __slots__ = ("code", "detail")
    CODE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    code: str
    detail: ErrorDetail
    def __init__(self, code: _Optional[str] = ..., detail: _Optional[_Union[ErrorDetail, _Mapping]] = ...) -> None: ...

class LocalizedText(_message.Message):
    __slots__ = ("en", "zh")
    EN_FIELD_NUMBER: _ClassVar[int]
    ZH_FIELD_NUMBER: _ClassVar[int]
    en: str
    zh: str
    def __init__(self, en: _Optional[str] = ..., zh: _Optional[str] = ...) -> None: ...

class Actor(_message.Message):
    __slots__ = ("kind", "id", "display_name")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    kind: ActorKind
    id: str
    display_name: str
    def __init__(self, kind: _Optional[_Union[ActorKind, str]] = ..., id: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class DeviceInfo(_message.Message):
    __slots__ = ("kind", "device_id", "fingerprint", "platform", "app_version", "model", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    KIND_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    APP_VERSION_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    kind: DeviceKind
    device_id: str
    fingerprint: str
    platform: str
    app_version: str
    model: str
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, kind: _Optional[_Union[DeviceKind, str]] = ..., device_id: _Optional[str] = ..., fingerprint: _Optional[str] = ..., platform: _Optional[str] = ..., app_version: _Optional[str] = ..., model: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ModelPackRef(_message.Message):
    __slots__ = ("id", "version")
    ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    id: str
    version: str
    def __init__(self, id: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class TimeRange(_message.Message):
    __slots__ = ("start_time", "end_time")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CandidateSnapshot(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "room_id", "display_name", "state", "state_since", "attempt_number", "desktop_online", "phone_online", "desktop_last_seen", "phone_last_seen", "phone_bound", "current_question_index", "question_count", "zero_score")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_SINCE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    DESKTOP_ONLINE_FIELD_NUMBER: _ClassVar[int]
    PHONE_ONLINE_FIELD_NUMBER: _ClassVar[int]
    DESKTOP_LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    PHONE_LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    PHONE_BOUND_FIELD_NUMBER: _ClassVar[int]
    CURRENT_QUESTION_INDEX_FIELD_NUMBER: _ClassVar[int]
    QUESTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    ZERO_SCORE_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    room_id: str
    display_name: str
    state: CandidateState
    state_since: _timestamp_pb2.Timestamp
    attempt_number: int
    desktop_online: bool
    phone_online: bool
    desktop_last_seen: _timestamp_pb2.Timestamp
    phone_last_seen: _timestamp_pb2.Timestamp
    phone_bound: bool
    current_question_index: int
    question_count: int
    zero_score: bool
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., room_id: _Optional[str] = ..., display_name: _Optional[str] = ..., state: _Optional[_Union[CandidateState, str]] = ..., state_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempt_number: _Optional[int] = ..., desktop_online: _Optional[bool] = ..., phone_online: _Optional[bool] = ..., desktop_last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., phone_last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., phone_bound: _Optional[bool] = ..., current_question_index: _Optional[int] = ..., question_count: _Optional[int] = ..., zero_score: _Optional[bool] = ...) -> None: ...

class MediaFormat(_message.Message):
    __slots__ = ("container", "video_codec", "audio_codec", "width", "height", "frame_rate", "audio_sample_rate", "mime_type")
    CONTAINER_FIELD_NUMBER: _ClassVar[int]
    VIDEO_CODEC_FIELD_NUMBER: _ClassVar[int]
    AUDIO_CODEC_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FRAME_RATE_FIELD_NUMBER: _ClassVar[int]
    AUDIO_SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    container: MediaContainer
    video_codec: VideoCodec
    audio_codec: AudioCodec
    width: int
    height: int
    frame_rate: float
    audio_sample_rate: int
    mime_type: str
    def __init__(self, container: _Optional[_Union[MediaContainer, str]] = ..., video_codec: _Optional[_Union[VideoCodec, str]] = ..., audio_codec: _Optional[_Union[AudioCodec, str]] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., frame_rate: _Optional[float] = ..., audio_sample_rate: _Optional[int] = ..., mime_type: _Optional[str] = ...) -> None: ...

class Evidence(_message.Message):
    __slots__ = ("thumbnail_uri", "stream_id", "stream_kind", "segment_id", "start_offset", "end_offset", "captured_at", "playlist_uri", "note")
    THUMBNAIL_URI_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    STREAM_KIND_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_ID_FIELD_NUMBER: _ClassVar[int]
    START_OFFSET_FIELD_NUMBER: _ClassVar[int]
    END_OFFSET_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_AT_FIELD_NUMBER: _ClassVar[int]
    PLAYLIST_URI_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    thumbnail_uri: str
    stream_id: str
    stream_kind: StreamKind
    segment_id: str
    start_offset: _duration_pb2.Duration
    end_offset: _duration_pb2.Duration
    captured_at: _timestamp_pb2.Timestamp
    playlist_uri: str
    note: str
    def __init__(self, thumbnail_uri: _Optional[str] = ..., stream_id: _Optional[str] = ..., stream_kind: _Optional[_Union[StreamKind, str]] = ..., segment_id: _Optional[str] = ..., start_offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., end_offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., captured_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., playlist_uri: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class UploadProgress(_message.Message):
    __slots__ = ("complete", "streams_total", "streams_verified", "bytes_committed", "upload_deadline", "late", "missing_kinds", "problems")
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    STREAMS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    STREAMS_VERIFIED_FIELD_NUMBER: _ClassVar[int]
    BYTES_COMMITTED_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    LATE_FIELD_NUMBER: _ClassVar[int]
    MISSING_KINDS_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    complete: bool
    streams_total: int
    streams_verified: int
    bytes_committed: int
    upload_deadline: _timestamp_pb2.Timestamp
    late: bool
    missing_kinds: _containers.RepeatedScalarFieldContainer[StreamKind]
    problems: _containers.RepeatedCompositeFieldContainer[LocalizedText]
    def __init__(self, complete: _Optional[bool] = ..., streams_total: _Optional[int] = ..., streams_verified: _Optional[int] = ..., bytes_committed: _Optional[int] = ..., upload_deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., late: _Optional[bool] = ..., missing_kinds: _Optional[_Iterable[_Union[StreamKind, str]]] = ..., problems: _Optional[_Iterable[_Union[LocalizedText, _Mapping]]] = ...) -> None: ...

class TelemetrySample(_message.Message):
    __slots__ = ("kind", "sequence", "client_time", "server_time", "value", "detail", "duration", "source", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    KIND_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TIME_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    kind: TelemetryKind
    sequence: int
    client_time: _timestamp_pb2.Timestamp
    server_time: _timestamp_pb2.Timestamp
    value: int
    detail: str
    duration: _duration_pb2.Duration
    source: TelemetrySource
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, kind: _Optional[_Union[TelemetryKind, str]] = ..., sequence: _Optional[int] = ..., client_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., value: _Optional[int] = ..., detail: _Optional[str] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., source: _Optional[_Union[TelemetrySource, str]] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Incident(_message.Message):
    __slots__ = ("incident_id", "sitting_id", "candidate_id", "room_id", "attempt_number", "kind", "severity", "confidence", "start_time", "end_time", "detected_at", "evidence", "model_pack", "detector", "source", "summary", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    DETECTED_AT_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    MODEL_PACK_FIELD_NUMBER: _ClassVar[int]
    DETECTOR_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    sitting_id: str
    candidate_id: str
    room_id: str
    attempt_number: int
    kind: IncidentKind
    severity: Severity
    confidence: float
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    detected_at: _timestamp_pb2.Timestamp
    evidence: _containers.RepeatedCompositeFieldContainer[Evidence]
    model_pack: ModelPackRef
    detector: str
    source: IncidentSource
    summary: LocalizedText
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, incident_id: _Optional[str] = ..., sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., room_id: _Optional[str] = ..., attempt_number: _Optional[int] = ..., kind: _Optional[_Union[IncidentKind, str]] = ..., severity: _Optional[_Union[Severity, str]] = ..., confidence: _Optional[float] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., detected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., evidence: _Optional[_Iterable[_Union[Evidence, _Mapping]]] = ..., model_pack: _Optional[_Union[ModelPackRef, _Mapping]] = ..., detector: _Optional[str] = ..., source: _Optional[_Union[IncidentSource, str]] = ..., summary: _Optional[_Union[LocalizedText, _Mapping]] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ChatMessage(_message.Message):
    __slots__ = ("message_id", "thread_id", "sitting_id", "candidate_id", "room_id", "direction", "text", "author", "sent_at", "client_time", "client_message_id")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TIME_FIELD_NUMBER: _ClassVar[int]
    CLIENT_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    thread_id: str
    sitting_id: str
    candidate_id: str
    room_id: str
    direction: ChatDirection
    text: str
    author: Actor
    sent_at: _timestamp_pb2.Timestamp
    client_time: _timestamp_pb2.Timestamp
    client_message_id: str
    def __init__(self, message_id: _Optional[str] = ..., thread_id: _Optional[str] = ..., sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., room_id: _Optional[str] = ..., direction: _Optional[_Union[ChatDirection, str]] = ..., text: _Optional[str] = ..., author: _Optional[_Union[Actor, _Mapping]] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., client_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., client_message_id: _Optional[str] = ...) -> None: ...

class Notice(_message.Message):
    __slots__ = ("notice_id", "sitting_id", "candidate_id", "kind", "severity", "text", "target_device", "created_at", "related_incident_id", "help_reply", "upload")
    NOTICE_ID_FIELD_NUMBER: _ClassVar[int]
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TARGET_DEVICE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    RELATED_INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    HELP_REPLY_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_FIELD_NUMBER: _ClassVar[int]
    notice_id: str
    sitting_id: str
    candidate_id: str
    kind: NoticeKind
    severity: Severity
    text: LocalizedText
    target_device: DeviceKind
    created_at: _timestamp_pb2.Timestamp
    related_incident_id: str
    help_reply: ChatMessage
    upload: UploadProgress
    def __init__(self, notice_id: _Optional[str] = ..., sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., kind: _Optional[_Union[NoticeKind, str]] = ..., severity: _Optional[_Union[Severity, str]] = ..., text: _Optional[_Union[LocalizedText, _Mapping]] = ..., target_device: _Optional[_Union[DeviceKind, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., related_incident_id: _Optional[str] = ..., help_reply: _Optional[_Union[ChatMessage, _Mapping]] = ..., upload: _Optional[_Union[UploadProgress, _Mapping]] = ...) -> None: ...

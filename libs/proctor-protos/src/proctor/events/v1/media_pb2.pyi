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

class ProcessingAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROCESSING_ACTION_UNSPECIFIED: _ClassVar[ProcessingAction]
    PROCESSING_ACTION_REMUXED: _ClassVar[ProcessingAction]
    PROCESSING_ACTION_TRANSCODED: _ClassVar[ProcessingAction]
    PROCESSING_ACTION_NONE: _ClassVar[ProcessingAction]

class MediaFlag(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEDIA_FLAG_UNSPECIFIED: _ClassVar[MediaFlag]
    MEDIA_FLAG_CORRUPT: _ClassVar[MediaFlag]
    MEDIA_FLAG_TRUNCATED: _ClassVar[MediaFlag]
    MEDIA_FLAG_NO_VIDEO_TRACK: _ClassVar[MediaFlag]
    MEDIA_FLAG_NO_AUDIO_TRACK: _ClassVar[MediaFlag]
    MEDIA_FLAG_UNEXPECTED_CODEC: _ClassVar[MediaFlag]
    MEDIA_FLAG_DURATION_MISMATCH: _ClassVar[MediaFlag]
    MEDIA_FLAG_TIMESTAMP_GAP: _ClassVar[MediaFlag]
    MEDIA_FLAG_ZERO_LENGTH: _ClassVar[MediaFlag]

class MediaStreamEventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEDIA_STREAM_EVENT_KIND_UNSPECIFIED: _ClassVar[MediaStreamEventKind]
    MEDIA_STREAM_EVENT_KIND_STREAM_OPENED: _ClassVar[MediaStreamEventKind]
    MEDIA_STREAM_EVENT_KIND_STREAM_CLOSED: _ClassVar[MediaStreamEventKind]
    MEDIA_STREAM_EVENT_KIND_STREAM_VERIFIED: _ClassVar[MediaStreamEventKind]
    MEDIA_STREAM_EVENT_KIND_STREAM_VERIFICATION_FAILED: _ClassVar[MediaStreamEventKind]
    MEDIA_STREAM_EVENT_KIND_LATE_UPLOAD: _ClassVar[MediaStreamEventKind]
    MEDIA_STREAM_EVENT_KIND_ROOM_SCAN_RECORDED: _ClassVar[MediaStreamEventKind]
    MEDIA_STREAM_EVENT_KIND_CANDIDATE_UPLOAD_COMPLETE: _ClassVar[MediaStreamEventKind]
    MEDIA_STREAM_EVENT_KIND_UPLOAD_DEADLINE_MISSED: _ClassVar[MediaStreamEventKind]
    MEDIA_STREAM_EVENT_KIND_STREAM_STITCHED: _ClassVar[MediaStreamEventKind]
    MEDIA_STREAM_EVENT_KIND_UPLOAD_PROGRESS: _ClassVar[MediaStreamEventKind]
PROCESSING_ACTION_UNSPECIFIED: ProcessingAction
PROCESSING_ACTION_REMUXED: ProcessingAction
PROCESSING_ACTION_TRANSCODED: ProcessingAction
PROCESSING_ACTION_NONE: ProcessingAction
MEDIA_FLAG_UNSPECIFIED: MediaFlag
MEDIA_FLAG_CORRUPT: MediaFlag
MEDIA_FLAG_TRUNCATED: MediaFlag
MEDIA_FLAG_NO_VIDEO_TRACK: MediaFlag
MEDIA_FLAG_NO_AUDIO_TRACK: MediaFlag
MEDIA_FLAG_UNEXPECTED_CODEC: MediaFlag
MEDIA_FLAG_DURATION_MISMATCH: MediaFlag
MEDIA_FLAG_TIMESTAMP_GAP: MediaFlag
MEDIA_FLAG_ZERO_LENGTH: MediaFlag
MEDIA_STREAM_EVENT_KIND_UNSPECIFIED: MediaStreamEventKind
MEDIA_STREAM_EVENT_KIND_STREAM_OPENED: MediaStreamEventKind
MEDIA_STREAM_EVENT_KIND_STREAM_CLOSED: MediaStreamEventKind
MEDIA_STREAM_EVENT_KIND_STREAM_VERIFIED: MediaStreamEventKind
MEDIA_STREAM_EVENT_KIND_STREAM_VERIFICATION_FAILED: MediaStreamEventKind
MEDIA_STREAM_EVENT_KIND_LATE_UPLOAD: MediaStreamEventKind
MEDIA_STREAM_EVENT_KIND_ROOM_SCAN_RECORDED: MediaStreamEventKind
MEDIA_STREAM_EVENT_KIND_CANDIDATE_UPLOAD_COMPLETE: MediaStreamEventKind
MEDIA_STREAM_EVENT_KIND_UPLOAD_DEADLINE_MISSED: MediaStreamEventKind
MEDIA_STREAM_EVENT_KIND_STREAM_STITCHED: MediaStreamEventKind
MEDIA_STREAM_EVENT_KIND_UPLOAD_PROGRESS: MediaStreamEventKind

class MediaSegmentReceived(_message.Message):
    __slots__ = ("meta", "stream_id", "stream_kind", "attempt_number", "segment_index", "object_uri", "size_bytes", "sha256", "declared_format", "client_start_time", "client_end_time", "media_duration", "committed_at", "late", "device_kind")
    META_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    STREAM_KIND_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_INDEX_FIELD_NUMBER: _ClassVar[int]
    OBJECT_URI_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    DECLARED_FORMAT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_START_TIME_FIELD_NUMBER: _ClassVar[int]
    CLIENT_END_TIME_FIELD_NUMBER: _ClassVar[int]
    MEDIA_DURATION_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    LATE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_KIND_FIELD_NUMBER: _ClassVar[int]
    meta: _meta_pb2.EventMeta
    stream_id: str
    stream_kind: _common_pb2.StreamKind
    attempt_number: int
    segment_index: int
    object_uri: str
    size_bytes: int
    sha256: bytes
    declared_format: _common_pb2.MediaFormat
    client_start_time: _timestamp_pb2.Timestamp
    client_end_time: _timestamp_pb2.Timestamp
    media_duration: _duration_pb2.Duration
    committed_at: _timestamp_pb2.Timestamp
    late: bool
    device_kind: _common_pb2.DeviceKind
    def __init__(self, meta: _Optional[_Union[_meta_pb2.EventMeta, _Mapping]] = ..., stream_id: _Optional[str] = ..., stream_kind: _Optional[_Union[_common_pb2.StreamKind, str]] = ..., attempt_number: _Optional[int] = ..., segment_index: _Optional[int] = ..., object_uri: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[bytes] = ..., declared_format: _Optional[_Union[_common_pb2.MediaFormat, _Mapping]] = ..., client_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., client_end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., media_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., committed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., late: _Optional[bool] = ..., device_kind: _Optional[_Union[_common_pb2.DeviceKind, str]] = ...) -> None: ...

class ProbeResult(_message.Message):
    __slots__ = ("ok", "flags", "detail")
    OK_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    flags: _containers.RepeatedScalarFieldContainer[MediaFlag]
    detail: str
    def __init__(self, ok: _Optional[bool] = ..., flags: _Optional[_Iterable[_Union[MediaFlag, str]]] = ..., detail: _Optional[str] = ...) -> None: ...

class MediaSegmentStored(_message.Message):
    __slots__ = ("meta", "segment_id", "stream_id", "stream_kind", "attempt_number", "segment_index", "media_start_time", "media_end_time", "duration", "stream_offset", "object_uri", "raw_object_uri", "thumbnail_uri", "playlist_uri", "keyframe_interval", "keyframe_count", "format", "has_video", "has_audio", "action", "probe", "received_at", "processed_at")
    META_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_ID_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    STREAM_KIND_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_INDEX_FIELD_NUMBER: _ClassVar[int]
    MEDIA_START_TIME_FIELD_NUMBER: _ClassVar[int]
    MEDIA_END_TIME_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    STREAM_OFFSET_FIELD_NUMBER: _ClassVar[int]
    OBJECT_URI_FIELD_NUMBER: _ClassVar[int]
    RAW_OBJECT_URI_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_URI_FIELD_NUMBER: _ClassVar[int]
    PLAYLIST_URI_FIELD_NUMBER: _ClassVar[int]
    KEYFRAME_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    KEYFRAME_COUNT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    HAS_VIDEO_FIELD_NUMBER: _ClassVar[int]
    HAS_AUDIO_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    PROBE_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    PROCESSED_AT_FIELD_NUMBER: _ClassVar[int]
    meta: _meta_pb2.EventMeta
    segment_id: str
    stream_id: str
    stream_kind: _common_pb2.StreamKind
    attempt_number: int
    segment_index: int
    media_start_time: _timestamp_pb2.Timestamp
    media_end_time: _timestamp_pb2.Timestamp
    duration: _duration_pb2.Duration
    stream_offset: _duration_pb2.Duration
    object_uri: str
    raw_object_uri: str
    thumbnail_uri: str
    playlist_uri: str
    keyframe_interval: _duration_pb2.Duration
    keyframe_count: int
    format: _common_pb2.MediaFormat
    has_video: bool
    has_audio: bool
    action: ProcessingAction
    probe: ProbeResult
    received_at: _timestamp_pb2.Timestamp
    processed_at: _timestamp_pb2.Timestamp
    def __init__(self, meta: _Optional[_Union[_meta_pb2.EventMeta, _Mapping]] = ..., segment_id: _Optional[str] = ..., stream_id: _Optional[str] = ..., stream_kind: _Optional[_Union[_common_pb2.StreamKind, str]] = ..., attempt_number: _Optional[int] = ..., segment_index: _Optional[int] = ..., media_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., media_end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., stream_offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., object_uri: _Optional[str] = ..., raw_object_uri: _Optional[str] = ..., thumbnail_uri: _Optional[str] = ..., playlist_uri: _Optional[str] = ..., keyframe_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., keyframe_count: _Optional[int] = ..., format: _Optional[_Union[_common_pb2.MediaFormat, _Mapping]] = ..., has_video: _Optional[bool] = ..., has_audio: _Optional[bool] = ..., action: _Optional[_Union[ProcessingAction, str]] = ..., probe: _Optional[_Union[ProbeResult, _Mapping]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., processed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StreamSummary(_message.Message):
    __slots__ = ("stream_id", "stream_kind", "segment_count", "total_bytes", "verified", "late")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    STREAM_KIND_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_FIELD_NUMBER: _ClassVar[int]
    LATE_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    stream_kind: _common_pb2.StreamKind
    segment_count: int
    total_bytes: int
    verified: bool
    late: bool
    def __init__(self, stream_id: _Optional[str] = ..., stream_kind: _Optional[_Union[_common_pb2.StreamKind, str]] = ..., segment_count: _Optional[int] = ..., total_bytes: _Optional[int] = ..., verified: _Optional[bool] = ..., late: _Optional[bool] = ...) -> None: ...

class MediaStreamEvent(_message.Message):
    __slots__ = ("meta", "kind", "stream_id", "stream_kind", "attempt_number", "device_kind", "segment_count", "total_bytes", "chain_head", "late", "missing_segments", "problems", "upload_deadline", "playlist_uri", "streams", "progress")
    META_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    STREAM_KIND_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    DEVICE_KIND_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    CHAIN_HEAD_FIELD_NUMBER: _ClassVar[int]
    LATE_FIELD_NUMBER: _ClassVar[int]
    MISSING_SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    PLAYLIST_URI_FIELD_NUMBER: _ClassVar[int]
    STREAMS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    meta: _meta_pb2.EventMeta
    kind: MediaStreamEventKind
    stream_id: str
    stream_kind: _common_pb2.StreamKind
    attempt_number: int
    device_kind: _common_pb2.DeviceKind
    segment_count: int
    total_bytes: int
    chain_head: bytes
    late: bool
    missing_segments: _containers.RepeatedScalarFieldContainer[int]
    problems: _containers.RepeatedScalarFieldContainer[str]
    upload_deadline: _timestamp_pb2.Timestamp
    playlist_uri: str
    streams: _containers.RepeatedCompositeFieldContainer[StreamSummary]
    progress: _common_pb2.UploadProgress
    def __init__(self, meta: _Optional[_Union[_meta_pb2.EventMeta, _Mapping]] = ..., kind: _Optional[_Union[MediaStreamEventKind, str]] = ..., stream_id: _Optional[str] = ..., stream_kind: _Optional[_Union[_common_pb2.StreamKind, str]] = ..., attempt_number: _Optional[int] = ..., device_kind: _Optional[_Union[_common_pb2.DeviceKind, str]] = ..., segment_count: _Optional[int] = ..., total_bytes: _Optional[int] = ..., chain_head: _Optional[bytes] = ..., late: _Optional[bool] = ..., missing_segments: _Optional[_Iterable[int]] = ..., problems: _Optional[_Iterable[str]] = ..., upload_deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., playlist_uri: _Optional[str] = ..., streams: _Optional[_Iterable[_Union[StreamSummary, _Mapping]]] = ..., progress: _Optional[_Union[_common_pb2.UploadProgress, _Mapping]] = ...) -> None: ...

class MediaStill(_message.Message):
    __slots__ = ("meta", "stream_id", "stream_kind", "attempt_number", "captured_at", "stream_offset", "jpeg", "received_at", "device_kind")
    META_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    STREAM_KIND_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_AT_FIELD_NUMBER: _ClassVar[int]
    STREAM_OFFSET_FIELD_NUMBER: _ClassVar[int]
    JPEG_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    DEVICE_KIND_FIELD_NUMBER: _ClassVar[int]
    meta: _meta_pb2.EventMeta
    stream_id: str
    stream_kind: _common_pb2.StreamKind
    attempt_number: int
    captured_at: _timestamp_pb2.Timestamp
    stream_offset: _duration_pb2.Duration
    jpeg: bytes
    received_at: _timestamp_pb2.Timestamp
    device_kind: _common_pb2.DeviceKind
    def __init__(self, meta: _Optional[_Union[_meta_pb2.EventMeta, _Mapping]] = ..., stream_id: _Optional[str] = ..., stream_kind: _Optional[_Union[_common_pb2.StreamKind, str]] = ..., attempt_number: _Optional[int] = ..., captured_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stream_offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., jpeg: _Optional[bytes] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., device_kind: _Optional[_Union[_common_pb2.DeviceKind, str]] = ...) -> None: ...

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

class StreamState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STREAM_STATE_UNSPECIFIED: _ClassVar[StreamState]
    STREAM_STATE_OPEN: _ClassVar[StreamState]
    STREAM_STATE_CLOSED: _ClassVar[StreamState]
    STREAM_STATE_VERIFIED: _ClassVar[StreamState]
    STREAM_STATE_VERIFICATION_FAILED: _ClassVar[StreamState]

class CloseReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLOSE_REASON_UNSPECIFIED: _ClassVar[CloseReason]
    CLOSE_REASON_COMPLETED: _ClassVar[CloseReason]
    CLOSE_REASON_DEVICE_FAILURE: _ClassVar[CloseReason]
    CLOSE_REASON_REPLACED: _ClassVar[CloseReason]
    CLOSE_REASON_STAFF: _ClassVar[CloseReason]
STREAM_STATE_UNSPECIFIED: StreamState
STREAM_STATE_OPEN: StreamState
STREAM_STATE_CLOSED: StreamState
STREAM_STATE_VERIFIED: StreamState
STREAM_STATE_VERIFICATION_FAILED: StreamState
CLOSE_REASON_UNSPECIFIED: CloseReason
CLOSE_REASON_COMPLETED: CloseReason
CLOSE_REASON_DEVICE_FAILURE: CloseReason
CLOSE_REASON_REPLACED: CloseReason
CLOSE_REASON_STAFF: CloseReason

class UploadLimits(_message.Message):
    __slots__ = ("max_chunk_bytes", "max_segment_bytes", "max_stream_bytes", "max_inflight_chunks", "max_segments", "segment_duration", "still_interval", "still_max_bytes", "still_max_side", "max_stills_per_call")
    MAX_CHUNK_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_SEGMENT_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_STREAM_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_INFLIGHT_CHUNKS_FIELD_NUMBER: _ClassVar[int]
    MAX_SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_DURATION_FIELD_NUMBER: _ClassVar[int]
    STILL_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    STILL_MAX_BYTES_FIELD_NUMBER: _ClassVar[int]
    STILL_MAX_SIDE_FIELD_NUMBER: _ClassVar[int]
    MAX_STILLS_PER_CALL_FIELD_NUMBER: _ClassVar[int]
    max_chunk_bytes: int
    max_segment_bytes: int
    max_stream_bytes: int
    max_inflight_chunks: int
    max_segments: int
    segment_duration: _duration_pb2.Duration
    still_interval: _duration_pb2.Duration
    still_max_bytes: int
    still_max_side: int
    max_stills_per_call: int
    def __init__(self, max_chunk_bytes: _Optional[int] = ..., max_segment_bytes: _Optional[int] = ..., max_stream_bytes: _Optional[int] = ..., max_inflight_chunks: _Optional[int] = ..., max_segments: _Optional[int] = ..., segment_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., still_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., still_max_bytes: _Optional[int] = ..., still_max_side: _Optional[int] = ..., max_stills_per_call: _Optional[int] = ...) -> None: ...

class Still(_message.Message):
    __slots__ = ("captured_at", "jpeg")
    CAPTURED_AT_FIELD_NUMBER: _ClassVar[int]
    JPEG_FIELD_NUMBER: _ClassVar[int]
    captured_at: _timestamp_pb2.Timestamp
    jpeg: bytes
    def __init__(self, captured_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., jpeg: _Optional[bytes] = ...) -> None: ...

class SubmitStillsRequest(_message.Message):
    __slots__ = ("stream_id", "stills")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    STILLS_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    stills: _containers.RepeatedCompositeFieldContainer[Still]
    def __init__(self, stream_id: _Optional[str] = ..., stills: _Optional[_Iterable[_Union[Still, _Mapping]]] = ...) -> None: ...

class SubmitStillsResponse(_message.Message):
    __slots__ = ("accepted",)
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    def __init__(self, accepted: _Optional[int] = ...) -> None: ...

class MediaStreamInfo(_message.Message):
    __slots__ = ("stream_id", "sitting_id", "candidate_id", "attempt_number", "kind", "format", "device_kind", "device_id", "state", "client_stream_key", "opened_at", "closed_at", "verified_at", "segments_complete", "contiguous_segments", "bytes_committed", "late", "upload_deadline", "last_activity_at", "chain_head", "problems")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    DEVICE_KIND_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_STREAM_KEY_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    CONTIGUOUS_SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    BYTES_COMMITTED_FIELD_NUMBER: _ClassVar[int]
    LATE_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTIVITY_AT_FIELD_NUMBER: _ClassVar[int]
    CHAIN_HEAD_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    sitting_id: str
    candidate_id: str
    attempt_number: int
    kind: _common_pb2.StreamKind
    format: _common_pb2.MediaFormat
    device_kind: _common_pb2.DeviceKind
    device_id: str
    state: StreamState
    client_stream_key: str
    opened_at: _timestamp_pb2.Timestamp
    closed_at: _timestamp_pb2.Timestamp
    verified_at: _timestamp_pb2.Timestamp
    segments_complete: int
    contiguous_segments: int
    bytes_committed: int
    late: bool
    upload_deadline: _timestamp_pb2.Timestamp
    last_activity_at: _timestamp_pb2.Timestamp
    chain_head: bytes
    problems: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, stream_id: _Optional[str] = ..., sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., attempt_number: _Optional[int] = ..., kind: _Optional[_Union[_common_pb2.StreamKind, str]] = ..., format: _Optional[_Union[_common_pb2.MediaFormat, _Mapping]] = ..., device_kind: _Optional[_Union[_common_pb2.DeviceKind, str]] = ..., device_id: _Optional[str] = ..., state: _Optional[_Union[StreamState, str]] = ..., client_stream_key: _Optional[str] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., verified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., segments_complete: _Optional[int] = ..., contiguous_segments: _Optional[int] = ..., bytes_committed: _Optional[int] = ..., late: _Optional[bool] = ..., upload_deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_activity_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., chain_head: _Optional[bytes] = ..., problems: _Optional[_Iterable[str]] = ...) -> None: ...

class OpenStreamRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "kind", "format", "client_stream_key", "device_id", "client_start_time", "nominal_segment_duration")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_STREAM_KEY_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_START_TIME_FIELD_NUMBER: _ClassVar[int]
    NOMINAL_SEGMENT_DURATION_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    kind: _common_pb2.StreamKind
    format: _common_pb2.MediaFormat
    client_stream_key: str
    device_id: str
    client_start_time: _timestamp_pb2.Timestamp
    nominal_segment_duration: _duration_pb2.Duration
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., kind: _Optional[_Union[_common_pb2.StreamKind, str]] = ..., format: _Optional[_Union[_common_pb2.MediaFormat, _Mapping]] = ..., client_stream_key: _Optional[str] = ..., device_id: _Optional[str] = ..., client_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., nominal_segment_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class OpenStreamResponse(_message.Message):
    __slots__ = ("stream", "limits", "reopened", "committed")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    REOPENED_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_FIELD_NUMBER: _ClassVar[int]
    stream: MediaStreamInfo
    limits: UploadLimits
    reopened: bool
    committed: CommittedOffset
    def __init__(self, stream: _Optional[_Union[MediaStreamInfo, _Mapping]] = ..., limits: _Optional[_Union[UploadLimits, _Mapping]] = ..., reopened: _Optional[bool] = ..., committed: _Optional[_Union[CommittedOffset, _Mapping]] = ...) -> None: ...

class SegmentSeal(_message.Message):
    __slots__ = ("size_bytes", "sha256", "client_start_time", "client_end_time", "media_duration")
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CLIENT_START_TIME_FIELD_NUMBER: _ClassVar[int]
    CLIENT_END_TIME_FIELD_NUMBER: _ClassVar[int]
    MEDIA_DURATION_FIELD_NUMBER: _ClassVar[int]
    size_bytes: int
    sha256: bytes
    client_start_time: _timestamp_pb2.Timestamp
    client_end_time: _timestamp_pb2.Timestamp
    media_duration: _duration_pb2.Duration
    def __init__(self, size_bytes: _Optional[int] = ..., sha256: _Optional[bytes] = ..., client_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., client_end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., media_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class MediaChunk(_message.Message):
    __slots__ = ("stream_id", "segment_index", "offset", "data", "sha256", "seal")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_INDEX_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SEAL_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    segment_index: int
    offset: int
    data: bytes
    sha256: bytes
    seal: SegmentSeal
    def __init__(self, stream_id: _Optional[str] = ..., segment_index: _Optional[int] = ..., offset: _Optional[int] = ..., data: _Optional[bytes] = ..., sha256: _Optional[bytes] = ..., seal: _Optional[_Union[SegmentSeal, _Mapping]] = ...) -> None: ...

class UploadHeader(_message.Message):
    __slots__ = ("stream_id",)
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    def __init__(self, stream_id: _Optional[str] = ...) -> None: ...

class UploadChunksRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: UploadHeader
    chunk: MediaChunk
    def __init__(self, header: _Optional[_Union[UploadHeader, _Mapping]] = ..., chunk: _Optional[_Union[MediaChunk, _Mapping]] = ...) -> None: ...

class ChunkAck(_message.Message):
    __slots__ = ("segment_index", "offset", "length", "committed_bytes", "duplicate")
    SEGMENT_INDEX_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_BYTES_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    segment_index: int
    offset: int
    length: int
    committed_bytes: int
    duplicate: bool
    def __init__(self, segment_index: _Optional[int] = ..., offset: _Optional[int] = ..., length: _Optional[int] = ..., committed_bytes: _Optional[int] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class SegmentAck(_message.Message):
    __slots__ = ("segment_index", "size_bytes", "sha256", "committed_at", "late", "duplicate")
    SEGMENT_INDEX_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    LATE_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    segment_index: int
    size_bytes: int
    sha256: bytes
    committed_at: _timestamp_pb2.Timestamp
    late: bool
    duplicate: bool
    def __init__(self, segment_index: _Optional[int] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[bytes] = ..., committed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., late: _Optional[bool] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class UploadReady(_message.Message):
    __slots__ = ("stream", "limits", "committed")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_FIELD_NUMBER: _ClassVar[int]
    stream: MediaStreamInfo
    limits: UploadLimits
    committed: CommittedOffset
    def __init__(self, stream: _Optional[_Union[MediaStreamInfo, _Mapping]] = ..., limits: _Optional[_Union[UploadLimits, _Mapping]] = ..., committed: _Optional[_Union[CommittedOffset, _Mapping]] = ...) -> None: ...

class UploadChunksResponse(_message.Message):
    __slots__ = ("ready", "chunk_ack", "segment_ack")
    READY_FIELD_NUMBER: _ClassVar[int]
    CHUNK_ACK_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_ACK_FIELD_NUMBER: _ClassVar[int]
    ready: UploadReady
    chunk_ack: ChunkAck
    segment_ack: SegmentAck
    def __init__(self, ready: _Optional[_Union[UploadReady, _Mapping]] = ..., chunk_ack: _Optional[_Union[ChunkAck, _Mapping]] = ..., segment_ack: _Optional[_Union[SegmentAck, _Mapping]] = ...) -> None: ...

class AppendChunkRequest(_message.Message):
    __slots__ = ("chunk",)
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    chunk: MediaChunk
    def __init__(self, chunk: _Optional[_Union[MediaChunk, _Mapping]] = ...) -> None: ...

class AppendChunkResponse(_message.Message):
    __slots__ = ("chunk_ack", "segment_ack")
    CHUNK_ACK_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_ACK_FIELD_NUMBER: _ClassVar[int]
    chunk_ack: ChunkAck
    segment_ack: SegmentAck
    def __init__(self, chunk_ack: _Optional[_Union[ChunkAck, _Mapping]] = ..., segment_ack: _Optional[_Union[SegmentAck, _Mapping]] = ...) -> None: ...

class GetCommittedOffsetRequest(_message.Message):
    __slots__ = ("stream_id",)
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    def __init__(self, stream_id: _Optional[str] = ...) -> None: ...

class SegmentProgress(_message.Message):
    __slots__ = ("segment_index", "committed_bytes", "complete")
    SEGMENT_INDEX_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_BYTES_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    segment_index: int
    committed_bytes: int
    complete: bool
    def __init__(self, segment_index: _Optional[int] = ..., committed_bytes: _Optional[int] = ..., complete: _Optional[bool] = ...) -> None: ...

class CommittedOffset(_message.Message):
    __slots__ = ("stream_id", "state", "contiguous_segments", "segments", "bytes_committed")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CONTIGUOUS_SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    BYTES_COMMITTED_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    state: StreamState
    contiguous_segments: int
    segments: _containers.RepeatedCompositeFieldContainer[SegmentProgress]
    bytes_committed: int
    def __init__(self, stream_id: _Optional[str] = ..., state: _Optional[_Union[StreamState, str]] = ..., contiguous_segments: _Optional[int] = ..., segments: _Optional[_Iterable[_Union[SegmentProgress, _Mapping]]] = ..., bytes_committed: _Optional[int] = ...) -> None: ...

class CloseStreamRequest(_message.Message):
    __slots__ = ("stream_id", "segment_count", "total_bytes", "chain_head", "client_end_time", "reason", "accept_missing", "note")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    CHAIN_HEAD_FIELD_NUMBER: _ClassVar[int]
    CLIENT_END_TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_MISSING_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    segment_count: int
    total_bytes: int
    chain_head: bytes
    client_end_time: _timestamp_pb2.Timestamp
    reason: CloseReason
    accept_missing: bool
    note: str
    def __init__(self, stream_id: _Optional[str] = ..., segment_count: _Optional[int] = ..., total_bytes: _Optional[int] = ..., chain_head: _Optional[bytes] = ..., client_end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[_Union[CloseReason, str]] = ..., accept_missing: _Optional[bool] = ..., note: _Optional[str] = ...) -> None: ...

class StreamVerification(_message.Message):
    __slots__ = ("verified", "sizes_match", "chain_matches", "missing_segments", "problems")
    VERIFIED_FIELD_NUMBER: _ClassVar[int]
    SIZES_MATCH_FIELD_NUMBER: _ClassVar[int]
    CHAIN_MATCHES_FIELD_NUMBER: _ClassVar[int]
    MISSING_SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    verified: bool
    sizes_match: bool
    chain_matches: bool
    missing_segments: _containers.RepeatedScalarFieldContainer[int]
    problems: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, verified: _Optional[bool] = ..., sizes_match: _Optional[bool] = ..., chain_matches: _Optional[bool] = ..., missing_segments: _Optional[_Iterable[int]] = ..., problems: _Optional[_Iterable[str]] = ...) -> None: ...

class CloseStreamResponse(_message.Message):
    __slots__ = ("stream", "verification")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_FIELD_NUMBER: _ClassVar[int]
    stream: MediaStreamInfo
    verification: StreamVerification
    def __init__(self, stream: _Optional[_Union[MediaStreamInfo, _Mapping]] = ..., verification: _Optional[_Union[StreamVerification, _Mapping]] = ...) -> None: ...

class GetUploadStatusRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "attempt_number")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    attempt_number: int
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., attempt_number: _Optional[int] = ...) -> None: ...

class CandidateUploadStatus(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "attempt_number", "streams", "progress", "complete_at")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    STREAMS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_AT_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    attempt_number: int
    streams: _containers.RepeatedCompositeFieldContainer[MediaStreamInfo]
    progress: _common_pb2.UploadProgress
    complete_at: _timestamp_pb2.Timestamp
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., attempt_number: _Optional[int] = ..., streams: _Optional[_Iterable[_Union[MediaStreamInfo, _Mapping]]] = ..., progress: _Optional[_Union[_common_pb2.UploadProgress, _Mapping]] = ..., complete_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetManifestRequest(_message.Message):
    __slots__ = ("stream_id", "page_size", "page_token")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    page_size: int
    page_token: str
    def __init__(self, stream_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ManifestSegment(_message.Message):
    __slots__ = ("segment_index", "size_bytes", "sha256", "chain_hash", "object_uri", "client_start_time", "client_end_time", "media_duration", "committed_at", "late")
    SEGMENT_INDEX_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CHAIN_HASH_FIELD_NUMBER: _ClassVar[int]
    OBJECT_URI_FIELD_NUMBER: _ClassVar[int]
    CLIENT_START_TIME_FIELD_NUMBER: _ClassVar[int]
    CLIENT_END_TIME_FIELD_NUMBER: _ClassVar[int]
    MEDIA_DURATION_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    LATE_FIELD_NUMBER: _ClassVar[int]
    segment_index: int
    size_bytes: int
    sha256: bytes
    chain_hash: bytes
    object_uri: str
    client_start_time: _timestamp_pb2.Timestamp
    client_end_time: _timestamp_pb2.Timestamp
    media_duration: _duration_pb2.Duration
    committed_at: _timestamp_pb2.Timestamp
    late: bool
    def __init__(self, segment_index: _Optional[int] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[bytes] = ..., chain_hash: _Optional[bytes] = ..., object_uri: _Optional[str] = ..., client_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., client_end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., media_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., committed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., late: _Optional[bool] = ...) -> None: ...

class Manifest(_message.Message):
    __slots__ = ("stream", "segments", "chain_head", "chain_spec", "missing_segments", "playlist_uri", "next_page_token")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    CHAIN_HEAD_FIELD_NUMBER: _ClassVar[int]
    CHAIN_SPEC_FIELD_NUMBER: _ClassVar[int]
    MISSING_SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    PLAYLIST_URI_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    stream: MediaStreamInfo
    segments: _containers.RepeatedCompositeFieldContainer[ManifestSegment]
    chain_head: bytes
    chain_spec: str
    missing_segments: _containers.RepeatedScalarFieldContainer[int]
    playlist_uri: str
    next_page_token: str
    def __init__(self, stream: _Optional[_Union[MediaStreamInfo, _Mapping]] = ..., segments: _Optional[_Iterable[_Union[ManifestSegment, _Mapping]]] = ..., chain_head: _Optional[bytes] = ..., chain_spec: _Optional[str] = ..., missing_segments: _Optional[_Iterable[int]] = ..., playlist_uri: _Optional[str] = ..., next_page_token: _Optional[str] = ...) -> None: ...

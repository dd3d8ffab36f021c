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

class QualityIssueCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUALITY_ISSUE_CODE_UNSPECIFIED: _ClassVar[QualityIssueCode]
    QUALITY_ISSUE_CODE_NO_FACE: _ClassVar[QualityIssueCode]
    QUALITY_ISSUE_CODE_MULTIPLE_FACES: _ClassVar[QualityIssueCode]
    QUALITY_ISSUE_CODE_FACE_TOO_SMALL: _ClassVar[QualityIssueCode]
    QUALITY_ISSUE_CODE_BLURRED: _ClassVar[QualityIssueCode]
    QUALITY_ISSUE_CODE_NOT_FRONTAL: _ClassVar[QualityIssueCode]
    QUALITY_ISSUE_CODE_EYES_CLOSED: _ClassVar[QualityIssueCode]
    QUALITY_ISSUE_CODE_FACE_MASKED: _ClassVar[QualityIssueCode]
    QUALITY_ISSUE_CODE_FACE_OCCLUDED: _ClassVar[QualityIssueCode]
    QUALITY_ISSUE_CODE_TOO_DARK: _ClassVar[QualityIssueCode]
    QUALITY_ISSUE_CODE_OVEREXPOSED: _ClassVar[QualityIssueCode]
    QUALITY_ISSUE_CODE_LOW_RESOLUTION: _ClassVar[QualityIssueCode]
    QUALITY_ISSUE_CODE_FILTER_SUSPECTED: _ClassVar[QualityIssueCode]

class LivenessAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIVENESS_ACTION_UNSPECIFIED: _ClassVar[LivenessAction]
    LIVENESS_ACTION_LOOK_STRAIGHT: _ClassVar[LivenessAction]
    LIVENESS_ACTION_TURN_LEFT: _ClassVar[LivenessAction]
    LIVENESS_ACTION_TURN_RIGHT: _ClassVar[LivenessAction]
    LIVENESS_ACTION_LOOK_UP: _ClassVar[LivenessAction]
    LIVENESS_ACTION_LOOK_DOWN: _ClassVar[LivenessAction]
    LIVENESS_ACTION_NOD: _ClassVar[LivenessAction]
    LIVENESS_ACTION_BLINK: _ClassVar[LivenessAction]
    LIVENESS_ACTION_OPEN_MOUTH: _ClassVar[LivenessAction]

class LoginFailureReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOGIN_FAILURE_REASON_UNSPECIFIED: _ClassVar[LoginFailureReason]
    LOGIN_FAILURE_REASON_FACE_QUALITY: _ClassVar[LoginFailureReason]
    LOGIN_FAILURE_REASON_LIVENESS_STEP_MISSED: _ClassVar[LoginFailureReason]
    LOGIN_FAILURE_REASON_STILL_IMAGE: _ClassVar[LoginFailureReason]
    LOGIN_FAILURE_REASON_REPLAY_SUSPECTED: _ClassVar[LoginFailureReason]
    LOGIN_FAILURE_REASON_FACE_MISMATCH: _ClassVar[LoginFailureReason]
    LOGIN_FAILURE_REASON_INSUFFICIENT_FRAMES: _ClassVar[LoginFailureReason]

class MatchDecision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MATCH_DECISION_UNSPECIFIED: _ClassVar[MatchDecision]
    MATCH_DECISION_MATCH: _ClassVar[MatchDecision]
    MATCH_DECISION_MISMATCH: _ClassVar[MatchDecision]
    MATCH_DECISION_INCONCLUSIVE: _ClassVar[MatchDecision]

class SessionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_STATUS_UNSPECIFIED: _ClassVar[SessionStatus]
    SESSION_STATUS_ACTIVE: _ClassVar[SessionStatus]
    SESSION_STATUS_EXPIRED: _ClassVar[SessionStatus]
    SESSION_STATUS_REVOKED: _ClassVar[SessionStatus]

class SessionOrigin(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_ORIGIN_UNSPECIFIED: _ClassVar[SessionOrigin]
    SESSION_ORIGIN_FACE_LOGIN: _ClassVar[SessionOrigin]
    SESSION_ORIGIN_STAFF_OVERRIDE: _ClassVar[SessionOrigin]

class OverrideKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OVERRIDE_KIND_UNSPECIFIED: _ClassVar[OverrideKind]
    OVERRIDE_KIND_ADMIT: _ClassVar[OverrideKind]
    OVERRIDE_KIND_ALLOW_DEVICE_SWITCH: _ClassVar[OverrideKind]

class ReviewStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REVIEW_STATUS_UNSPECIFIED: _ClassVar[ReviewStatus]
    REVIEW_STATUS_PENDING: _ClassVar[ReviewStatus]
    REVIEW_STATUS_ADMITTED: _ClassVar[ReviewStatus]
    REVIEW_STATUS_REJECTED: _ClassVar[ReviewStatus]
    REVIEW_STATUS_RETRY_ALLOWED: _ClassVar[ReviewStatus]

class ReviewResolution(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REVIEW_RESOLUTION_UNSPECIFIED: _ClassVar[ReviewResolution]
    REVIEW_RESOLUTION_ADMIT: _ClassVar[ReviewResolution]
    REVIEW_RESOLUTION_REJECT: _ClassVar[ReviewResolution]
    REVIEW_RESOLUTION_ALLOW_RETRY: _ClassVar[ReviewResolution]

class ModelRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_ROLE_UNSPECIFIED: _ClassVar[ModelRole]
    MODEL_ROLE_DETECTOR: _ClassVar[ModelRole]
    MODEL_ROLE_LANDMARKS: _ClassVar[ModelRole]
    MODEL_ROLE_EMBEDDER: _ClassVar[ModelRole]
QUALITY_ISSUE_CODE_UNSPECIFIED: QualityIssueCode
QUALITY_ISSUE_CODE_NO_FACE: QualityIssueCode
QUALITY_ISSUE_CODE_MULTIPLE_FACES: QualityIssueCode
QUALITY_ISSUE_CODE_FACE_TOO_SMALL: QualityIssueCode
QUALITY_ISSUE_CODE_BLURRED: QualityIssueCode
QUALITY_ISSUE_CODE_NOT_FRONTAL: QualityIssueCode
QUALITY_ISSUE_CODE_EYES_CLOSED: QualityIssueCode
QUALITY_ISSUE_CODE_FACE_MASKED: QualityIssueCode
QUALITY_ISSUE_CODE_FACE_OCCLUDED: QualityIssueCode
QUALITY_ISSUE_CODE_TOO_DARK: QualityIssueCode
QUALITY_ISSUE_CODE_OVEREXPOSED: QualityIssueCode
QUALITY_ISSUE_CODE_LOW_RESOLUTION: QualityIssueCode
QUALITY_ISSUE_CODE_FILTER_SUSPECTED: QualityIssueCode
LIVENESS_ACTION_UNSPECIFIED: LivenessAction
LIVENESS_ACTION_LOOK_STRAIGHT: LivenessAction
LIVENESS_ACTION_TURN_LEFT: LivenessAction
LIVENESS_ACTION_TURN_RIGHT: LivenessAction
LIVENESS_ACTION_LOOK_UP: LivenessAction
LIVENESS_ACTION_LOOK_DOWN: LivenessAction
LIVENESS_ACTION_NOD: LivenessAction
LIVENESS_ACTION_BLINK: LivenessAction
LIVENESS_ACTION_OPEN_MOUTH: LivenessAction
LOGIN_FAILURE_REASON_UNSPECIFIED: LoginFailureReason
LOGIN_FAILURE_REASON_FACE_QUALITY: LoginFailureReason
LOGIN_FAILURE_REASON_LIVENESS_STEP_MISSED: LoginFailureReason
LOGIN_FAILURE_REASON_STILL_IMAGE: LoginFailureReason
LOGIN_FAILURE_REASON_REPLAY_SUSPECTED: LoginFailureReason
LOGIN_FAILURE_REASON_FACE_MISMATCH: LoginFailureReason
LOGIN_FAILURE_REASON_INSUFFICIENT_FRAMES: LoginFailureReason
MATCH_DECISION_UNSPECIFIED: MatchDecision
MATCH_DECISION_MATCH: MatchDecision
MATCH_DECISION_MISMATCH: MatchDecision
MATCH_DECISION_INCONCLUSIVE: MatchDecision
SESSION_STATUS_UNSPECIFIED: SessionStatus
SESSION_STATUS_ACTIVE: SessionStatus
SESSION_STATUS_EXPIRED: SessionStatus
SESSION_STATUS_REVOKED: SessionStatus
SESSION_ORIGIN_UNSPECIFIED: SessionOrigin
SESSION_ORIGIN_FACE_LOGIN: SessionOrigin
SESSION_ORIGIN_STAFF_OVERRIDE: SessionOrigin
OVERRIDE_KIND_UNSPECIFIED: OverrideKind
OVERRIDE_KIND_ADMIT: OverrideKind
OVERRIDE_KIND_ALLOW_DEVICE_SWITCH: OverrideKind
REVIEW_STATUS_UNSPECIFIED: ReviewStatus
REVIEW_STATUS_PENDING: ReviewStatus
REVIEW_STATUS_ADMITTED: ReviewStatus
REVIEW_STATUS_REJECTED: ReviewStatus
REVIEW_STATUS_RETRY_ALLOWED: ReviewStatus
REVIEW_RESOLUTION_UNSPECIFIED: ReviewResolution
REVIEW_RESOLUTION_ADMIT: ReviewResolution
REVIEW_RESOLUTION_REJECT: ReviewResolution
REVIEW_RESOLUTION_ALLOW_RETRY: ReviewResolution
MODEL_ROLE_UNSPECIFIED: ModelRole
MODEL_ROLE_DETECTOR: ModelRole
MODEL_ROLE_LANDMARKS: ModelRole
MODEL_ROLE_EMBEDDER: ModelRole

class QualityIssue(_message.Message):
    __slots__ = ("code", "message", "measured", "limit")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MEASURED_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    code: QualityIssueCode
    message: _common_pb2.LocalizedText
    measured: float
    limit: float
    def __init__(self, code: _Optional[_Union[QualityIssueCode, str]] = ..., message: _Optional[_Union[_common_pb2.LocalizedText, _Mapping]] = ..., measured: _Optional[float] = ..., limit: _Optional[float] = ...) -> None: ...

class FaceQuality(_message.Message):
    __slots__ = ("accepted", "issues", "face_count", "face_height_px", "sharpness", "yaw_deg", "pitch_deg", "detector_score")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    ISSUES_FIELD_NUMBER: _ClassVar[int]
    FACE_COUNT_FIELD_NUMBER: _ClassVar[int]
    FACE_HEIGHT_PX_FIELD_NUMBER: _ClassVar[int]
    SHARPNESS_FIELD_NUMBER: _ClassVar[int]
    YAW_DEG_FIELD_NUMBER: _ClassVar[int]
    PITCH_DEG_FIELD_NUMBER: _ClassVar[int]
    DETECTOR_SCORE_FIELD_NUMBER: _ClassVar[int]
    accepted: bool
    issues: _containers.RepeatedCompositeFieldContainer[QualityIssue]
    face_count: int
    face_height_px: int
    sharpness: float
    yaw_deg: float
    pitch_deg: float
    detector_score: float
    def __init__(self, accepted: _Optional[bool] = ..., issues: _Optional[_Iterable[_Union[QualityIssue, _Mapping]]] = ..., face_count: _Optional[int] = ..., face_height_px: _Optional[int] = ..., sharpness: _Optional[float] = ..., yaw_deg: _Optional[float] = ..., pitch_deg: _Optional[float] = ..., detector_score: _Optional[float] = ...) -> None: ...

class EnrolCandidateRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "id_photo", "replace_existing", "keep_photo")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    ID_PHOTO_FIELD_NUMBER: _ClassVar[int]
    REPLACE_EXISTING_FIELD_NUMBER: _ClassVar[int]
    KEEP_PHOTO_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    id_photo: bytes
    replace_existing: bool
    keep_photo: bool
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., id_photo: _Optional[bytes] = ..., replace_existing: _Optional[bool] = ..., keep_photo: _Optional[bool] = ...) -> None: ...

class EnrolCandidateResponse(_message.Message):
    __slots__ = ("enrolled", "quality", "template_id", "model_pack", "enrolled_at", "unchanged")
    ENROLLED_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_PACK_FIELD_NUMBER: _ClassVar[int]
    ENROLLED_AT_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    enrolled: bool
    quality: FaceQuality
    template_id: str
    model_pack: _common_pb2.ModelPackRef
    enrolled_at: _timestamp_pb2.Timestamp
    unchanged: bool
    def __init__(self, enrolled: _Optional[bool] = ..., quality: _Optional[_Union[FaceQuality, _Mapping]] = ..., template_id: _Optional[str] = ..., model_pack: _Optional[_Union[_common_pb2.ModelPackRef, _Mapping]] = ..., enrolled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., unchanged: _Optional[bool] = ...) -> None: ...

class BulkEnrolRequest(_message.Message):
    __slots__ = ("client_index", "request")
    CLIENT_INDEX_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    client_index: int
    request: EnrolCandidateRequest
    def __init__(self, client_index: _Optional[int] = ..., request: _Optional[_Union[EnrolCandidateRequest, _Mapping]] = ...) -> None: ...

class BulkEnrolResult(_message.Message):
    __slots__ = ("client_index", "candidate_id", "response", "error")
    CLIENT_INDEX_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    client_index: int
    candidate_id: str
    response: EnrolCandidateResponse
    error: _common_pb2.ItemError
    def __init__(self, client_index: _Optional[int] = ..., candidate_id: _Optional[str] = ..., response: _Optional[_Union[EnrolCandidateResponse, _Mapping]] = ..., error: _Optional[_Union[_common_pb2.ItemError, _Mapping]] = ...) -> None: ...

class GetEnrolmentRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ...) -> None: ...

class Enrolment(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "template_id", "model_pack", "quality", "enrolled_at", "photo_kept")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_PACK_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    ENROLLED_AT_FIELD_NUMBER: _ClassVar[int]
    PHOTO_KEPT_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    template_id: str
    model_pack: _common_pb2.ModelPackRef
    quality: FaceQuality
    enrolled_at: _timestamp_pb2.Timestamp
    photo_kept: bool
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., template_id: _Optional[str] = ..., model_pack: _Optional[_Union[_common_pb2.ModelPackRef, _Mapping]] = ..., quality: _Optional[_Union[FaceQuality, _Mapping]] = ..., enrolled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., photo_kept: _Optional[bool] = ...) -> None: ...

class LivenessStep(_message.Message):
    __slots__ = ("index", "action", "instruction", "min_duration", "max_duration")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    MIN_DURATION_FIELD_NUMBER: _ClassVar[int]
    MAX_DURATION_FIELD_NUMBER: _ClassVar[int]
    index: int
    action: LivenessAction
    instruction: _common_pb2.LocalizedText
    min_duration: _duration_pb2.Duration
    max_duration: _duration_pb2.Duration
    def __init__(self, index: _Optional[int] = ..., action: _Optional[_Union[LivenessAction, str]] = ..., instruction: _Optional[_Union[_common_pb2.LocalizedText, _Mapping]] = ..., min_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class StartLivenessChallengeRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "device")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    device: _common_pb2.DeviceInfo
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., device: _Optional[_Union[_common_pb2.DeviceInfo, _Mapping]] = ...) -> None: ...

class LivenessChallenge(_message.Message):
    __slots__ = ("challenge_id", "steps", "expires_at", "server_time", "min_frames", "max_frames", "target_fps", "frame_width", "frame_height")
    CHALLENGE_ID_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    MIN_FRAMES_FIELD_NUMBER: _ClassVar[int]
    MAX_FRAMES_FIELD_NUMBER: _ClassVar[int]
    TARGET_FPS_FIELD_NUMBER: _ClassVar[int]
    FRAME_WIDTH_FIELD_NUMBER: _ClassVar[int]
    FRAME_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    challenge_id: str
    steps: _containers.RepeatedCompositeFieldContainer[LivenessStep]
    expires_at: _timestamp_pb2.Timestamp
    server_time: _timestamp_pb2.Timestamp
    min_frames: int
    max_frames: int
    target_fps: int
    frame_width: int
    frame_height: int
    def __init__(self, challenge_id: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[LivenessStep, _Mapping]]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., min_frames: _Optional[int] = ..., max_frames: _Optional[int] = ..., target_fps: _Optional[int] = ..., frame_width: _Optional[int] = ..., frame_height: _Optional[int] = ...) -> None: ...

class CapturedFrame(_message.Message):
    __slots__ = ("jpeg", "capture_time", "step_index")
    JPEG_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_TIME_FIELD_NUMBER: _ClassVar[int]
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    jpeg: bytes
    capture_time: _timestamp_pb2.Timestamp
    step_index: int
    def __init__(self, jpeg: _Optional[bytes] = ..., capture_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., step_index: _Optional[int] = ...) -> None: ...

class FrameSet(_message.Message):
    __slots__ = ("frames",)
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    frames: _containers.RepeatedCompositeFieldContainer[CapturedFrame]
    def __init__(self, frames: _Optional[_Iterable[_Union[CapturedFrame, _Mapping]]] = ...) -> None: ...

class VideoClip(_message.Message):
    __slots__ = ("data", "format", "capture_start_time")
    DATA_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_START_TIME_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    format: _common_pb2.MediaFormat
    capture_start_time: _timestamp_pb2.Timestamp
    def __init__(self, data: _Optional[bytes] = ..., format: _Optional[_Union[_common_pb2.MediaFormat, _Mapping]] = ..., capture_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class VerifyLoginRequest(_message.Message):
    __slots__ = ("challenge_id", "sitting_id", "candidate_id", "device", "frames", "clip")
    CHALLENGE_ID_FIELD_NUMBER: _ClassVar[int]
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    CLIP_FIELD_NUMBER: _ClassVar[int]
    challenge_id: str
    sitting_id: str
    candidate_id: str
    device: _common_pb2.DeviceInfo
    frames: FrameSet
    clip: VideoClip
    def __init__(self, challenge_id: _Optional[str] = ..., sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., device: _Optional[_Union[_common_pb2.DeviceInfo, _Mapping]] = ..., frames: _Optional[_Union[FrameSet, _Mapping]] = ..., clip: _Optional[_Union[VideoClip, _Mapping]] = ...) -> None: ...

class LoginFailure(_message.Message):
    __slots__ = ("reason", "quality_issue", "step_index", "message")
    REASON_FIELD_NUMBER: _ClassVar[int]
    QUALITY_ISSUE_FIELD_NUMBER: _ClassVar[int]
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    reason: LoginFailureReason
    quality_issue: QualityIssueCode
    step_index: int
    message: _common_pb2.LocalizedText
    def __init__(self, reason: _Optional[_Union[LoginFailureReason, str]] = ..., quality_issue: _Optional[_Union[QualityIssueCode, str]] = ..., step_index: _Optional[int] = ..., message: _Optional[_Union[_common_pb2.LocalizedText, _Mapping]] = ...) -> None: ...

class StepResult(_message.Message):
    __slots__ = ("index", "action", "passed", "score")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    index: int
    action: LivenessAction
    passed: bool
    score: float
    def __init__(self, index: _Optional[int] = ..., action: _Optional[_Union[LivenessAction, str]] = ..., passed: _Optional[bool] = ..., score: _Optional[float] = ...) -> None: ...

class LivenessResult(_message.Message):
    __slots__ = ("passed", "steps", "score")
    PASSED_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    passed: bool
    steps: _containers.RepeatedCompositeFieldContainer[StepResult]
    score: float
    def __init__(self, passed: _Optional[bool] = ..., steps: _Optional[_Iterable[_Union[StepResult, _Mapping]]] = ..., score: _Optional[float] = ...) -> None: ...

class MatchResult(_message.Message):
    __slots__ = ("decision", "distance", "threshold", "inconclusive_reasons")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    INCONCLUSIVE_REASONS_FIELD_NUMBER: _ClassVar[int]
    decision: MatchDecision
    distance: float
    threshold: float
    inconclusive_reasons: _containers.RepeatedScalarFieldContainer[QualityIssueCode]
    def __init__(self, decision: _Optional[_Union[MatchDecision, str]] = ..., distance: _Optional[float] = ..., threshold: _Optional[float] = ..., inconclusive_reasons: _Optional[_Iterable[_Union[QualityIssueCode, str]]] = ...) -> None: ...

class VerifyLoginResponse(_message.Message):
    __slots__ = ("verified", "session_token", "session_id", "expires_at", "failures", "attempts_remaining", "manual_review_id", "liveness", "match", "model_pack", "replaced_session_id")
    VERIFIED_FIELD_NUMBER: _ClassVar[int]
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_REMAINING_FIELD_NUMBER: _ClassVar[int]
    MANUAL_REVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    LIVENESS_FIELD_NUMBER: _ClassVar[int]
    MATCH_FIELD_NUMBER: _ClassVar[int]
    MODEL_PACK_FIELD_NUMBER: _ClassVar[int]
    REPLACED_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    verified: bool
    session_token: str
    session_id: str
    expires_at: _timestamp_pb2.Timestamp
    failures: _containers.RepeatedCompositeFieldContainer[LoginFailure]
    attempts_remaining: int
    manual_review_id: str
    liveness: LivenessResult
    match: MatchResult
    model_pack: _common_pb2.ModelPackRef
    replaced_session_id: str
    def __init__(self, verified: _Optional[bool] = ..., session_token: _Optional[str] = ..., session_id: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failures: _Optional[_Iterable[_Union[LoginFailure, _Mapping]]] = ..., attempts_remaining: _Optional[int] = ..., manual_review_id: _Optional[str] = ..., liveness: _Optional[_Union[LivenessResult, _Mapping]] = ..., match: _Optional[_Union[MatchResult, _Mapping]] = ..., model_pack: _Optional[_Union[_common_pb2.ModelPackRef, _Mapping]] = ..., replaced_session_id: _Optional[str] = ...) -> None: ...

class FaceEmbedding(_message.Message):
    __slots__ = ("values", "model_pack")
    VALUES_FIELD_NUMBER: _ClassVar[int]
    MODEL_PACK_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    model_pack: _common_pb2.ModelPackRef
    def __init__(self, values: _Optional[_Iterable[float]] = ..., model_pack: _Optional[_Union[_common_pb2.ModelPackRef, _Mapping]] = ...) -> None: ...

class ReVerifyRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "frame_jpeg", "face_crop_jpeg", "embedding", "capture_time", "segment_id")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    FRAME_JPEG_FIELD_NUMBER: _ClassVar[int]
    FACE_CROP_JPEG_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_TIME_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_ID_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    frame_jpeg: bytes
    face_crop_jpeg: bytes
    embedding: FaceEmbedding
    capture_time: _timestamp_pb2.Timestamp
    segment_id: str
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., frame_jpeg: _Optional[bytes] = ..., face_crop_jpeg: _Optional[bytes] = ..., embedding: _Optional[_Union[FaceEmbedding, _Mapping]] = ..., capture_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., segment_id: _Optional[str] = ...) -> None: ...

class ReVerifyResponse(_message.Message):
    __slots__ = ("match", "face_count", "template_id", "model_pack")
    MATCH_FIELD_NUMBER: _ClassVar[int]
    FACE_COUNT_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_PACK_FIELD_NUMBER: _ClassVar[int]
    match: MatchResult
    face_count: int
    template_id: str
    model_pack: _common_pb2.ModelPackRef
    def __init__(self, match: _Optional[_Union[MatchResult, _Mapping]] = ..., face_count: _Optional[int] = ..., template_id: _Optional[str] = ..., model_pack: _Optional[_Union[_common_pb2.ModelPackRef, _Mapping]] = ...) -> None: ...

class RefreshSessionRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class SessionTokenResponse(_message.Message):
    __slots__ = ("session_token", "session_id", "expires_at", "replaced_session_id")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REPLACED_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    session_id: str
    expires_at: _timestamp_pb2.Timestamp
    replaced_session_id: str
    def __init__(self, session_token: _Optional[str] = ..., session_id: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., replaced_session_id: _Optional[str] = ...) -> None: ...

class GetSessionRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class SessionInfo(_message.Message):
    __slots__ = ("session_id", "sitting_id", "candidate_id", "device_id", "status", "origin", "issued_at", "expires_at", "revoked_at", "revoke_reason")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKE_REASON_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    sitting_id: str
    candidate_id: str
    device_id: str
    status: SessionStatus
    origin: SessionOrigin
    issued_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    revoked_at: _timestamp_pb2.Timestamp
    revoke_reason: str
    def __init__(self, session_id: _Optional[str] = ..., sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., device_id: _Optional[str] = ..., status: _Optional[_Union[SessionStatus, str]] = ..., origin: _Optional[_Union[SessionOrigin, str]] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoke_reason: _Optional[str] = ...) -> None: ...

class RevokeSessionRequest(_message.Message):
    __slots__ = ("session_id", "reason")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    reason: str
    def __init__(self, session_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class StaffOverrideRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "kind", "reason", "device_id", "validity", "ticket_ref", "client_request_id")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    VALIDITY_FIELD_NUMBER: _ClassVar[int]
    TICKET_REF_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    kind: OverrideKind
    reason: str
    device_id: str
    validity: _duration_pb2.Duration
    ticket_ref: str
    client_request_id: str
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., kind: _Optional[_Union[OverrideKind, str]] = ..., reason: _Optional[str] = ..., device_id: _Optional[str] = ..., validity: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., ticket_ref: _Optional[str] = ..., client_request_id: _Optional[str] = ...) -> None: ...

class StaffOverrideResponse(_message.Message):
    __slots__ = ("override_id", "claim_code", "expires_at", "revoked_session_id")
    OVERRIDE_ID_FIELD_NUMBER: _ClassVar[int]
    CLAIM_CODE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    override_id: str
    claim_code: str
    expires_at: _timestamp_pb2.Timestamp
    revoked_session_id: str
    def __init__(self, override_id: _Optional[str] = ..., claim_code: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_session_id: _Optional[str] = ...) -> None: ...

class ClaimOverrideRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_id", "claim_code", "device")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    CLAIM_CODE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_id: str
    claim_code: str
    device: _common_pb2.DeviceInfo
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., claim_code: _Optional[str] = ..., device: _Optional[_Union[_common_pb2.DeviceInfo, _Mapping]] = ...) -> None: ...

class ManualReviewItem(_message.Message):
    __slots__ = ("review_id", "sitting_id", "candidate_id", "room_id", "status", "created_at", "failed_attempts", "last_failures", "best_frame_uri", "id_photo_uri", "resolved_by", "resolved_at", "resolution_reason")
    REVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    FAILED_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LAST_FAILURES_FIELD_NUMBER: _ClassVar[int]
    BEST_FRAME_URI_FIELD_NUMBER: _ClassVar[int]
    ID_PHOTO_URI_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_BY_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_REASON_FIELD_NUMBER: _ClassVar[int]
    review_id: str
    sitting_id: str
    candidate_id: str
    room_id: str
    status: ReviewStatus
    created_at: _timestamp_pb2.Timestamp
    failed_attempts: int
    last_failures: _containers.RepeatedCompositeFieldContainer[LoginFailure]
    best_frame_uri: str
    id_photo_uri: str
    resolved_by: _common_pb2.Actor
    resolved_at: _timestamp_pb2.Timestamp
    resolution_reason: str
    def __init__(self, review_id: _Optional[str] = ..., sitting_id: _Optional[str] = ..., candidate_id: _Optional[str] = ..., room_id: _Optional[str] = ..., status: _Optional[_Union[ReviewStatus, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failed_attempts: _Optional[int] = ..., last_failures: _Optional[_Iterable[_Union[LoginFailure, _Mapping]]] = ..., best_frame_uri: _Optional[str] = ..., id_photo_uri: _Optional[str] = ..., resolved_by: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ..., resolved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolution_reason: _Optional[str] = ...) -> None: ...

class ListManualReviewRequest(_message.Message):
    __slots__ = ("sitting_id", "room_ids", "statuses", "page_size", "page_token")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_IDS_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    room_ids: _containers.RepeatedScalarFieldContainer[str]
    statuses: _containers.RepeatedScalarFieldContainer[ReviewStatus]
    page_size: int
    page_token: str
    def __init__(self, sitting_id: _Optional[str] = ..., room_ids: _Optional[_Iterable[str]] = ..., statuses: _Optional[_Iterable[_Union[ReviewStatus, str]]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListManualReviewResponse(_message.Message):
    __slots__ = ("items", "next_page_token")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ManualReviewItem]
    next_page_token: str
    def __init__(self, items: _Optional[_Iterable[_Union[ManualReviewItem, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ResolveManualReviewRequest(_message.Message):
    __slots__ = ("review_id", "resolution", "reason")
    REVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    review_id: str
    resolution: ReviewResolution
    reason: str
    def __init__(self, review_id: _Optional[str] = ..., resolution: _Optional[_Union[ReviewResolution, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class ResolveManualReviewResponse(_message.Message):
    __slots__ = ("item", "claim_code", "claim_expires_at")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    CLAIM_CODE_FIELD_NUMBER: _ClassVar[int]
    CLAIM_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    item: ManualReviewItem
    claim_code: str
    claim_expires_at: _timestamp_pb2.Timestamp
    def __init__(self, item: _Optional[_Union[ManualReviewItem, _Mapping]] = ..., claim_code: _Optional[str] = ..., claim_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DeleteTemplatesRequest(_message.Message):
    __slots__ = ("sitting_id", "candidate_ids", "reason")
    SITTING_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_IDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    sitting_id: str
    candidate_ids: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    def __init__(self, sitting_id: _Optional[str] = ..., candidate_ids: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ...) -> None: ...

class DeleteTemplatesResponse(_message.Message):
    __slots__ = ("deleted_count",)
    DELETED_COUNT_FIELD_NUMBER: _ClassVar[int]
    deleted_count: int
    def __init__(self, deleted_count: _Optional[int] = ...) -> None: ...

class GetModelInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ModelComponent(_message.Message):
    __slots__ = ("role", "id", "version", "runtime", "licence")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    LICENCE_FIELD_NUMBER: _ClassVar[int]
    role: ModelRole
    id: str
    version: str
    runtime: str
    licence: str
    def __init__(self, role: _Optional[_Union[ModelRole, str]] = ..., id: _Optional[str] = ..., version: _Optional[str] = ..., runtime: _Optional[str] = ..., licence: _Optional[str] = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("pack", "components", "match_threshold", "threshold_provenance", "embedding_dim", "distance_metric", "ready")
    PACK_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    MATCH_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_DIM_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_METRIC_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    pack: _common_pb2.ModelPackRef
    components: _containers.RepeatedCompositeFieldContainer[ModelComponent]
    match_threshold: float
    threshold_provenance: str
    embedding_dim: int
    distance_metric: str
    ready: bool
    def __init__(self, pack: _Optional[_Union[_common_pb2.ModelPackRef, _Mapping]] = ..., components: _Optional[_Iterable[_Union[ModelComponent, _Mapping]]] = ..., match_threshold: _Optional[float] = ..., threshold_provenance: _Optional[str] = ..., embedding_dim: _Optional[int] = ..., distance_metric: _Optional[str] = ..., ready: _Optional[bool] = ...) -> None: ...

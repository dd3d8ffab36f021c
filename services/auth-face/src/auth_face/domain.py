"""The rules of auth-face in plain Python: quality issues and their texts, how a login attempt's
analysis becomes failures (in the order the client shows them), sessions and overrides.
Imports neither grpc nor kafka nor the models."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum

from proctor_runtime.errors import FailedPrecondition, InvalidArgument


class Issue(StrEnum):
    """Names match ``QualityIssueCode`` (``QUALITY_ISSUE_CODE_<name>``)."""

    NO_FACE = "NO_FACE"
    MULTIPLE_FACES = "MULTIPLE_FACES"
    FACE_TOO_SMALL = "FACE_TOO_SMALL"
    BLURRED = "BLURRED"
    NOT_FRONTAL = "NOT_FRONTAL"
    EYES_CLOSED = "EYES_CLOSED"
    FACE_MASKED = "FACE_MASKED"
    FACE_OCCLUDED = "FACE_OCCLUDED"
    TOO_DARK = "TOO_DARK"
    OVEREXPOSED = "OVEREXPOSED"
    LOW_RESOLUTION = "LOW_RESOLUTION"
    FILTER_SUSPECTED = "FILTER_SUSPECTED"


ISSUE_TEXT: dict[Issue, tuple[str, str]] = {
    Issue.NO_FACE: ("no face found: face the camera", "未检测到人脸，请正对摄像头"),
    Issue.MULTIPLE_FACES: ("several faces: only you may be in the picture", "检测到多张人脸，画面中只能有您本人"),
    Issue.FACE_TOO_SMALL: ("the face is too small: move closer to the camera", "人脸太小，请靠近摄像头"),
    Issue.BLURRED: ("the image is blurred: hold still, in focus", "图像模糊，请保持静止并对准焦距"),
    Issue.NOT_FRONTAL: ("please face the camera", "请正对摄像头"),
    Issue.EYES_CLOSED: ("please open your eyes", "请睁开眼睛"),
    Issue.FACE_MASKED: ("please remove your mask", "请摘下口罩"),
    Issue.FACE_OCCLUDED: ("the face is covered: show your whole face", "面部被遮挡，请露出完整面部"),
    Issue.TOO_DARK: ("too dark: add light in front of you", "光线太暗，请增加正面照明"),
    Issue.OVEREXPOSED: ("too bright: avoid direct light", "光线过强，请避免强光直射"),
    Issue.LOW_RESOLUTION: ("the resolution is too low", "图片分辨率过低"),
    Issue.FILTER_SUSPECTED: ("turn off beauty filters", "请关闭美颜滤镜"),
}


class Step(StrEnum):
    """Names match ``LivenessAction`` (``LIVENESS_ACTION_<name>``) and proctor_faces' steps."""

    TURN_LEFT = "TURN_LEFT"
    TURN_RIGHT = "TURN_RIGHT"
    LOOK_UP = "LOOK_UP"
    LOOK_DOWN = "LOOK_DOWN"
    NOD = "NOD"
    BLINK = "BLINK"


STEP_TEXT: dict[Step, tuple[str, str]] = {
    Step.TURN_LEFT: ("turn your head left", "请向左转头"),
    Step.TURN_RIGHT: ("turn your head right", "请向右转头"),
    Step.LOOK_UP: ("look up", "请抬头"),
    Step.LOOK_DOWN: ("look down", "请低头"),
    Step.NOD: ("nod", "请点头"),
    Step.BLINK: ("blink", "请眨眼"),
}


class Failure(StrEnum):
    """Names match ``LoginFailureReason``; the order is the order failures are listed in."""

    INSUFFICIENT_FRAMES = "INSUFFICIENT_FRAMES"
    FACE_QUALITY = "FACE_QUALITY"
    STILL_IMAGE = "STILL_IMAGE"
    REPLAY_SUSPECTED = "REPLAY_SUSPECTED"
    LIVENESS_STEP_MISSED = "LIVENESS_STEP_MISSED"
    FACE_MISMATCH = "FACE_MISMATCH"


FAILURE_TEXT: dict[Failure, tuple[str, str]] = {
    Failure.INSUFFICIENT_FRAMES: ("not enough frames were captured; try again", "采集的画面不足，请重试"),
    Failure.STILL_IMAGE: ("no movement: a photo is not accepted; follow the instructions",
                          "未检测到动作，不接受照片，请按提示完成动作"),
    Failure.REPLAY_SUSPECTED: ("the movements or their timing do not match the instructions; start again",
                               "动作或时间与提示不符，请重新开始"),
    Failure.FACE_MISMATCH: ("the face does not match the registration photo", "人脸与报名照片不一致"),
}


class Decision(StrEnum):
    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    INCONCLUSIVE = "INCONCLUSIVE"


class Origin(IntEnum):
    FACE_LOGIN = 1
    STAFF_OVERRIDE = 2


class SessionStatus(IntEnum):
    ACTIVE = 1
    EXPIRED = 2
    REVOKED = 3


class OverrideKind(IntEnum):
    ADMIT = 1
    ALLOW_DEVICE_SWITCH = 2


class ReviewStatus(IntEnum):
    PENDING = 1
    ADMITTED = 2
    REJECTED = 3
    RETRY_ALLOWED = 4


class Resolution(IntEnum):
    ADMIT = 1
    REJECT = 2
    ALLOW_RETRY = 3


RESOLVED_STATUS = {Resolution.ADMIT: ReviewStatus.ADMITTED, Resolution.REJECT: ReviewStatus.REJECTED,
                   Resolution.ALLOW_RETRY: ReviewStatus.RETRY_ALLOWED}


@dataclass(frozen=True)
class QualityIssue:
    code: Issue
    measured: float = 0.0
    limit: float = 0.0

    @property
    def text(self) -> tuple[str, str]:
        return ISSUE_TEXT[self.code]


@dataclass
class QualityVerdict:
    accepted: bool
    issues: list[QualityIssue] = field(default_factory=list)
    face_count: int = 0
    face_height_px: int = 0
    sharpness: float = 0.0
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    detector_score: float = 0.0


@dataclass(frozen=True)
class LoginFailure:
    reason: Failure
    issue: Issue | None = None
    step_index: int | None = None
    step: Step | None = None

    @property
    def text(self) -> tuple[str, str]:
        if self.reason is Failure.FACE_QUALITY and self.issue is not None:
            return ISSUE_TEXT[self.issue]
        if self.reason is Failure.LIVENESS_STEP_MISSED and self.step is not None:
            en, zh = STEP_TEXT[self.step]
            n = (self.step_index or 0) + 1
            return f"step {n} not performed: {en}", f"未完成第 {n} 步：{zh}"
        return FAILURE_TEXT[self.reason]


@dataclass
class StepOutcome:
    step: Step
    passed: bool


@dataclass
class Match:
    decision: Decision
    distance: float | None
    threshold: float
    reasons: list[Issue] = field(default_factory=list)
    face_count: int = 0


@dataclass
class LoginAnalysis:
    """What the models made of one login attempt (see ``inference.analyse_login``)."""

    frames: int
    liveness_reasons: list[str]  # proctor_faces.liveness reasons, plus NO_MOTION / CAPTURE_SPAN
    steps: list[StepOutcome]
    match: Match | None  # None: not evaluated (too few frames)
    still: bool = False

    @property
    def liveness_passed(self) -> bool:
        return not self.liveness_reasons and all(s.passed for s in self.steps)


LIVENESS_QUALITY = {"MULTIPLE_FACES": Issue.MULTIPLE_FACES, "FACE_NOT_VISIBLE": Issue.NO_FACE,
                    "MASKED_OR_OCCLUDED": Issue.FACE_MASKED, "NO_FRONTAL_FRAME": Issue.NOT_FRONTAL}
LIVENESS_REPLAY = ("TIMESTAMPS_NOT_INCREASING", "TOO_LONG", "UNEXPECTED_MOVEMENT", "CAPTURE_SPAN")


def login_failures(a: LoginAnalysis) -> list[LoginFailure]:
    """Every reason the attempt fails, in display order (empty = verified)."""
    out: list[LoginFailure] = []
    reasons = a.liveness_reasons
    if "TOO_FEW_FRAMES" in reasons:
        out.append(LoginFailure(Failure.INSUFFICIENT_FRAMES))
    m = a.match
    issues = [LIVENESS_QUALITY[r] for r in reasons if r in LIVENESS_QUALITY]
    if m is not None and m.decision is Decision.INCONCLUSIVE:
        issues += m.reasons
    for issue in dict.fromkeys(issues):
        out.append(LoginFailure(Failure.FACE_QUALITY, issue=issue))
    if a.still or "STATIC_SEQUENCE" in reasons or "NO_MOTION" in reasons:
        out.append(LoginFailure(Failure.STILL_IMAGE))
    if any(r.split(":")[0] in LIVENESS_REPLAY for r in reasons):
        out.append(LoginFailure(Failure.REPLAY_SUSPECTED))
    missed = next((i for i, s in enumerate(a.steps) if not s.passed), None)
    if missed is not None and not out:
        out.append(LoginFailure(Failure.LIVENESS_STEP_MISSED, step_index=missed, step=a.steps[missed].step))
    if m is not None and (m.decision is Decision.MISMATCH
                          or (m.decision is Decision.INCONCLUSIVE and not m.reasons)):
        out.append(LoginFailure(Failure.FACE_MISMATCH))
    return out


def session_status(revoked_at: datetime | None, expires_at: datetime, now: datetime) -> SessionStatus:
    if revoked_at is not None:
        return SessionStatus.REVOKED
    return SessionStatus.ACTIVE if now < expires_at else SessionStatus.EXPIRED


def required_reason(reason: str, what: str = "this action") -> str:
    text = reason.strip()
    if not text:
        raise InvalidArgument("REASON_REQUIRED", f"{what} needs a reason (it is audited)",
                              "必须填写原因（将记入审计日志）", {"field": "reason"})
    if len(text) > 2000:
        raise InvalidArgument("FIELD_INVALID", "the reason is longer than 2000 characters", "原因过长",
                              {"field": "reason"})
    return text


def required(value: str, field_name: str, max_len: int = 128) -> str:
    text = value.strip()
    if not text:
        raise InvalidArgument("FIELD_REQUIRED", f"{field_name} is required", f"缺少字段 {field_name}",
                              {"field": field_name})
    if len(text) > max_len or not text.isprintable():
        raise InvalidArgument("FIELD_INVALID", f"{field_name} must be printable, at most {max_len} characters",
                              f"字段 {field_name} 格式错误", {"field": field_name})
    return text


def review_blocked(review_id: str, status: ReviewStatus) -> FailedPrecondition:
    if status is ReviewStatus.REJECTED:
        return FailedPrecondition("MANUAL_REVIEW_REJECTED", "face login was refused after manual review; "
                                  "contact the exam staff", "人工审核未通过，请联系考务人员", {"review_id": review_id})
    return FailedPrecondition("MANUAL_REVIEW_PENDING", "too many failed attempts: a proctor will review your "
                              "login; please wait or ask for help",
                              "人脸识别失败次数过多，已转人工审核，请等待或求助监考老师", {"review_id": review_id})


def active_elsewhere(session_id: str, device_id: str) -> FailedPrecondition:
    return FailedPrecondition("ACTIVE_ON_OTHER_DEVICE", "you are already signed in on another device; only one "
                              "device may be used (ask the exam staff to switch devices)",
                              "您已在其他设备上登录，只允许使用一台设备（如需更换设备请联系考务人员）",
                              {"session_id": session_id, "active_device_id": device_id})

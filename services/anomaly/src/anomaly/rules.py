"""The detector settings and the rule of every incident kind: minimum duration, hysteresis, sample
counts, severity, escalation, and the summary texts (en, zh-CN) proctors see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from proctor.common.v1 import common_pb2 as c


class DetectorSettings(BaseModel):
    """Detector and temporal settings (seconds are media time). Defaults: see the issue and the
    report; each is a rule, not a fit to a clip."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # minimum duration before an incident opens
    no_face_s: float = Field(default=5.0, gt=0)
    multiple_faces_s: float = Field(default=2.0, gt=0)
    gaze_away_s: float = Field(default=4.0, gt=0)
    face_masked_s: float = Field(default=5.0, gt=0)
    face_occluded_s: float = Field(default=5.0, gt=0)
    camera_covered_s: float = Field(default=5.0, gt=0)
    too_dark_s: float = Field(default=5.0, gt=0)
    phone_not_visible_s: float = Field(default=10.0, gt=0)
    phone_moved_s: float = Field(default=5.0, gt=0)
    phone_covered_s: float = Field(default=5.0, gt=0)
    focus_lost_s: float = Field(default=3.0, ge=0)
    # closing and continuity
    close_after_s: float = Field(default=3.0, ge=0, description="normal this long before an incident closes")
    min_samples: int = Field(default=2, ge=2, description="abnormal frames an incident needs (one frame never opens)")
    max_sample_gap_s: float = Field(default=3.0, gt=0, description="a longer gap between frames breaks a run")
    max_open_gap_s: float = Field(default=30.0, gt=0, description="no frame this long: an open incident closes")
    escalate_after_s: float = Field(default=60.0, gt=0, description="open this long: severity one level up")
    update_interval_s: float = Field(default=30.0, ge=0, description="at most one evidence UPDATED per interval")
    min_peak_gain: float = Field(default=0.1, ge=0, description="a frame this much worse is new evidence")
    screenshot_hold_s: float = Field(default=10.0, gt=0, description="closes after no attempt this long")
    telemetry_hold_s: float = Field(default=300.0, gt=0, description="VM / remote desktop / process: no report")
    # identity
    identity_interval_s: float = Field(default=30.0, ge=10, le=30,
                                       description="periodic re-verification (one embedding, ~4 ms CPU, per check)")
    identity_spread: bool = Field(default=True, description="a candidate's first periodic check at their own phase "
                                  "of the interval (stable per candidate) after their first usable face, so that "
                                  "candidates starting together are not all checked in the same second; False: at once")
    identity_confirm_s: float = Field(default=3.0, gt=0, description="after a MISMATCH, check again this soon")
    identity_mismatches: int = Field(default=2, ge=2, description="consecutive MISMATCH results before opening")
    identity_matches: int = Field(default=2, ge=1, description="consecutive MATCH results before closing")
    track_lost_s: float = Field(default=2.0, gt=0, description="no face this long: the face track is lost")
    # calibration of the neutral pose
    calibration_samples: int = Field(default=5, ge=1)
    calibration_window_s: float = Field(default=60.0, gt=0, description="give up (use what there is) after this")
    calibration_max_yaw: float = 30.0
    calibration_max_pitch: float = 30.0
    # gaze by iris position (eye coordinates: half eye widths)
    iris_away: float = Field(default=0.15, gt=0)
    iris_gain_deg: float = Field(default=70.0, gt=0, description="degrees of eye rotation per unit of iris offset")
    iris_min_face_px: float = 80.0
    # picture
    covered_std: float = Field(default=4.0, ge=0, description="contrast (grey std, 128x96 copy) of a covered lens")
    covered_ratio: float = Field(default=0.05, ge=0, description="... or contrast / brightness under this")
    dark_mean: float = Field(default=35.0, ge=0, description="mean grey level under which the picture is too dark")
    # video frames let telemetry time pass (a FOCUS_LOST without FOCUS_GAINED opens), but this far behind:
    # after a reconnect the video backlog and the telemetry backlog race, and a frame must not outrun
    # the FOCUS_GAINED that is still on its way
    telemetry_frame_lag_s: float = Field(default=15.0, ge=0)
    # change gate (skip the face models when the picture barely changed)
    gate_max_reuse_s: float = Field(default=3.0, ge=0, description="0 = always analyse")
    gate_frame: float = Field(default=3.0, ge=0, description="grey levels, worst 4x4 block of a 32x24 thumbnail")
    gate_face: float = Field(default=5.0, ge=0, description="grey levels, worst 4x4 block of the 32x16 eye band")
    # adaptive sampling: while a stream is calm (its last frame normal for every signal, none pending or
    # open, the pose calibrated, no identity confirmation due), only one frame per this many media
    # seconds is decoded and analysed; anything else brings back every sampled frame. 0 = off
    calm_sample_period_s: float = Field(default=3.0, ge=0, description="<= max_sample_gap_s; 0 = every frame")
    # the phone lane's (its rules are 5-10 s; shortened like the desktop's so that no incident fits between
    # two analysed frames). Longer than max_sample_gap_s: a run after a calm stretch relies on the declined
    # frames coming back (the service always gives them: the stream's last stills, or its segment)
    phone_calm_sample_period_s: float = Field(default=6.0, ge=0, description="0 = every frame")
    # out-of-order frames
    late_tolerance_s: float = Field(default=0.5, ge=0)
    # phone evidence camera
    phone_reference_frames: int = Field(default=5, ge=1)
    phone_moved_fraction: float = Field(default=0.6, gt=0, le=1)
    # evidence
    jpeg_quality: int = Field(default=80, ge=10, le=100)
    evidence_max_width: int = Field(default=640, ge=64)

    @model_validator(mode="after")
    def _calm_within_gap(self) -> DetectorSettings:
        # a longer calm period would break every run that starts after a calm stretch
        if self.calm_sample_period_s > self.max_sample_gap_s:
            raise ValueError("calm_sample_period_s must not exceed max_sample_gap_s")
        return self


@dataclass(frozen=True)
class Rule:
    kind: int
    detector: str
    severity: int
    open_after: timedelta
    close_after: timedelta
    open_samples: int = 2
    close_samples: int = 1
    max_gap: timedelta | None = None  # runs: a longer gap between informative samples breaks them
    open_gap: timedelta | None = None  # an open incident without an informative sample this long closes
    latched: bool = False  # telemetry: the reported state holds until the next report
    hold: timedelta | None = None  # point facts: normal again this long after the last report
    escalate_after: timedelta | None = None


K = c  # IncidentKind values live in common_pb2

TEXT: dict[int, tuple[str, str]] = {
    K.INCIDENT_KIND_NO_FACE: ("No face in the camera", "摄像头画面中没有人脸"),
    K.INCIDENT_KIND_MULTIPLE_FACES: ("{face_count} faces in the camera", "摄像头画面中出现 {face_count} 张人脸"),
    K.INCIDENT_KIND_FACE_MASKED: ("Face masked", "面部被口罩遮挡"),
    K.INCIDENT_KIND_FACE_OCCLUDED: ("Face covered or occluded", "面部被遮挡"),
    K.INCIDENT_KIND_CAMERA_COVERED: ("Camera covered", "摄像头被遮挡"),
    K.INCIDENT_KIND_TOO_DARK: ("Camera picture too dark", "摄像头画面过暗"),
    K.INCIDENT_KIND_GAZE_AWAY: ("Looking away from the screen", "视线离开屏幕"),
    K.INCIDENT_KIND_IDENTITY_MISMATCH: ("Face does not match the enrolled candidate", "人脸与报名照片不一致"),
    K.INCIDENT_KIND_SECOND_MONITOR: ("{displays} displays connected", "连接了 {displays} 个显示器"),
    K.INCIDENT_KIND_FOCUS_LOST: ("Exam window lost focus", "考试窗口失去焦点"),
    K.INCIDENT_KIND_SCREENSHOT_ATTEMPT: ("Screenshot or screen recording attempt", "尝试截屏或录屏"),
    K.INCIDENT_KIND_VIRTUAL_MACHINE: ("Exam client runs in a virtual machine", "考试客户端运行在虚拟机中"),
    K.INCIDENT_KIND_REMOTE_DESKTOP: ("Remote desktop detected", "检测到远程桌面"),
    K.INCIDENT_KIND_PROHIBITED_PROCESS: ("Prohibited program running", "运行了禁用程序"),
    K.INCIDENT_KIND_PHONE_CANDIDATE_NOT_VISIBLE: ("Candidate not visible on the phone camera",
                                                  "手机摄像头中看不到考生"),
    K.INCIDENT_KIND_PHONE_CAMERA_MOVED: ("Phone camera moved", "手机摄像头被移动"),
    K.INCIDENT_KIND_PHONE_CAMERA_COVERED: ("Phone camera covered", "手机摄像头被遮挡"),
}


def rules(s: DetectorSettings) -> dict[int, Rule]:
    """The rule of every incident kind the tracker raises."""
    sec = lambda v: timedelta(seconds=v)  # noqa: E731
    close, gap, open_gap, esc = sec(s.close_after_s), sec(s.max_sample_gap_s), sec(s.max_open_gap_s), \
        sec(s.escalate_after_s)

    def frame_rule(kind: int, detector: str, severity: int, after: float) -> Rule:
        return Rule(kind, detector, severity, sec(after), close, open_samples=s.min_samples, max_gap=gap,
                    open_gap=open_gap, escalate_after=esc)

    def telemetry(kind: int, severity: int, after: float = 0.0, hold: float | None = None,
                  escalate: bool = False) -> Rule:
        return Rule(kind, "telemetry@1", severity, sec(after), timedelta(0), open_samples=1, latched=True,
                    hold=sec(hold) if hold else None, escalate_after=esc if escalate else None)

    out = [
        frame_rule(K.INCIDENT_KIND_NO_FACE, "face_count@1", c.SEVERITY_MEDIUM, s.no_face_s),
        frame_rule(K.INCIDENT_KIND_MULTIPLE_FACES, "face_count@1", c.SEVERITY_HIGH, s.multiple_faces_s),
        frame_rule(K.INCIDENT_KIND_FACE_MASKED, "face_cover@1", c.SEVERITY_MEDIUM, s.face_masked_s),
        frame_rule(K.INCIDENT_KIND_FACE_OCCLUDED, "face_cover@1", c.SEVERITY_MEDIUM, s.face_occluded_s),
        frame_rule(K.INCIDENT_KIND_CAMERA_COVERED, "camera@1", c.SEVERITY_HIGH, s.camera_covered_s),
        frame_rule(K.INCIDENT_KIND_TOO_DARK, "camera@1", c.SEVERITY_LOW, s.too_dark_s),
        frame_rule(K.INCIDENT_KIND_GAZE_AWAY, "gaze@1", c.SEVERITY_LOW, s.gaze_away_s),
        frame_rule(K.INCIDENT_KIND_PHONE_CANDIDATE_NOT_VISIBLE, "phone@1", c.SEVERITY_MEDIUM, s.phone_not_visible_s),
        frame_rule(K.INCIDENT_KIND_PHONE_CAMERA_MOVED, "phone@1", c.SEVERITY_MEDIUM, s.phone_moved_s),
        frame_rule(K.INCIDENT_KIND_PHONE_CAMERA_COVERED, "phone@1", c.SEVERITY_HIGH, s.phone_covered_s),
        Rule(K.INCIDENT_KIND_IDENTITY_MISMATCH, "identity@1", c.SEVERITY_CRITICAL, timedelta(0), timedelta(0),
             open_samples=s.identity_mismatches, close_samples=s.identity_matches),
        telemetry(K.INCIDENT_KIND_SECOND_MONITOR, c.SEVERITY_HIGH),
        telemetry(K.INCIDENT_KIND_FOCUS_LOST, c.SEVERITY_MEDIUM, after=s.focus_lost_s, escalate=True),
        telemetry(K.INCIDENT_KIND_SCREENSHOT_ATTEMPT, c.SEVERITY_MEDIUM, hold=s.screenshot_hold_s),
        telemetry(K.INCIDENT_KIND_VIRTUAL_MACHINE, c.SEVERITY_HIGH, hold=s.telemetry_hold_s),
        telemetry(K.INCIDENT_KIND_REMOTE_DESKTOP, c.SEVERITY_CRITICAL, hold=s.telemetry_hold_s),
        telemetry(K.INCIDENT_KIND_PROHIBITED_PROCESS, c.SEVERITY_HIGH, hold=s.telemetry_hold_s),
    ]
    return {r.kind: r for r in out}

"""zh-CN and English labels of the enum values a review report shows.

Every label is "中文 / English"; a value this table does not know (a newer enum value) is shown by
its protobuf name, never dropped.
"""

from __future__ import annotations

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from proctor.common.v1 import common_pb2
from proctor.media.v1 import media_ingest_pb2
from proctor.notify.v1 import notify_pb2

c = common_pb2
n = notify_pb2
m = media_ingest_pb2

INCIDENT_KIND: dict[int, tuple[str, str]] = {
    c.INCIDENT_KIND_NO_FACE: ("离开画面", "No face"),
    c.INCIDENT_KIND_MULTIPLE_FACES: ("多人出现", "Multiple faces"),
    c.INCIDENT_KIND_FACE_MASKED: ("面部遮挡（口罩）", "Face masked"),
    c.INCIDENT_KIND_FACE_OCCLUDED: ("面部被遮挡", "Face occluded"),
    c.INCIDENT_KIND_CAMERA_COVERED: ("摄像头被遮挡", "Camera covered"),
    c.INCIDENT_KIND_TOO_DARK: ("画面过暗", "Too dark"),
    c.INCIDENT_KIND_GAZE_AWAY: ("视线偏离", "Gaze away"),
    c.INCIDENT_KIND_IDENTITY_MISMATCH: ("身份不符", "Identity mismatch"),
    c.INCIDENT_KIND_TALKING: ("说话", "Talking"),
    c.INCIDENT_KIND_SECOND_MONITOR: ("第二显示器", "Second monitor"),
    c.INCIDENT_KIND_FOCUS_LOST: ("切出考试窗口", "Focus lost"),
    c.INCIDENT_KIND_SCREENSHOT_ATTEMPT: ("截屏/录屏尝试", "Screenshot attempt"),
    c.INCIDENT_KIND_VIRTUAL_MACHINE: ("虚拟机", "Virtual machine"),
    c.INCIDENT_KIND_REMOTE_DESKTOP: ("远程桌面", "Remote desktop"),
    c.INCIDENT_KIND_PROHIBITED_PROCESS: ("违禁程序", "Prohibited process"),
    c.INCIDENT_KIND_PHONE_CANDIDATE_NOT_VISIBLE: ("手机画面中不见考生", "Candidate not visible on phone"),
    c.INCIDENT_KIND_PHONE_CAMERA_MOVED: ("手机机位移动", "Phone camera moved"),
    c.INCIDENT_KIND_PHONE_CAMERA_COVERED: ("手机摄像头被遮挡", "Phone camera covered"),
    c.INCIDENT_KIND_SECOND_DEVICE_LOGIN: ("第二设备登录", "Second device login"),
    c.INCIDENT_KIND_ABANDONED: ("中途离开考试", "Abandoned"),
    c.INCIDENT_KIND_NETWORK_OFFLINE: ("网络断开", "Network offline"),
    c.INCIDENT_KIND_PHONE_OFFLINE: ("手机离线", "Phone offline"),
    c.INCIDENT_KIND_RECORDING_INTERRUPTED: ("录像中断", "Recording interrupted"),
    c.INCIDENT_KIND_OFFLINE_ANSWER_FLAGGED: ("离线作答待复核", "Offline answer flagged"),
    c.INCIDENT_KIND_UPLOAD_INCOMPLETE: ("录像上传不完整", "Upload incomplete"),
    c.INCIDENT_KIND_MEDIA_INVALID: ("录像无效", "Media invalid"),
    c.INCIDENT_KIND_OTHER: ("其他", "Other"),
}
SEVERITY: dict[int, tuple[str, str]] = {
    c.SEVERITY_INFO: ("提示", "Info"), c.SEVERITY_LOW: ("低", "Low"), c.SEVERITY_MEDIUM: ("中", "Medium"),
    c.SEVERITY_HIGH: ("高", "High"), c.SEVERITY_CRITICAL: ("严重", "Critical"),
}
STATUS: dict[int, tuple[str, str]] = {
    c.INCIDENT_STATUS_NEW: ("未处理", "New"), c.INCIDENT_STATUS_ACKNOWLEDGED: ("处理中", "Acknowledged"),
    c.INCIDENT_STATUS_ESCALATED: ("已上报", "Escalated"), c.INCIDENT_STATUS_RESOLVED: ("已裁定", "Resolved"),
}
VERDICT: dict[int, tuple[str, str]] = {
    c.VERDICT_UNSPECIFIED: ("未裁定", "No verdict"), c.VERDICT_CONFIRMED: ("确认违规", "Confirmed"),
    c.VERDICT_FALSE_ALARM: ("误报", "False alarm"), c.VERDICT_NEEDS_REVIEW: ("待复核", "Needs review"),
}
CANDIDATE_STATE: dict[int, tuple[str, str]] = {
    c.CANDIDATE_STATE_REGISTERED: ("已报名", "Registered"), c.CANDIDATE_STATE_LOGGED_IN: ("已登录", "Logged in"),
    c.CANDIDATE_STATE_PHONE_BOUND: ("手机已绑定", "Phone bound"),
    c.CANDIDATE_STATE_ROOM_SCANNED: ("已环视", "Room scanned"), c.CANDIDATE_STATE_WAITING: ("候考中", "Waiting"),
    c.CANDIDATE_STATE_IN_EXAM: ("考试中", "In exam"), c.CANDIDATE_STATE_FINISHED: ("已交卷", "Finished"),
    c.CANDIDATE_STATE_UPLOADED: ("录像已上传", "Uploaded"), c.CANDIDATE_STATE_ABSENT: ("缺考", "Absent"),
    c.CANDIDATE_STATE_ABANDONED: ("中途放弃", "Abandoned"),
}
STREAM_KIND: dict[int, tuple[str, str]] = {
    c.STREAM_KIND_DESKTOP_CAMERA: ("电脑摄像头", "Desktop camera"),
    c.STREAM_KIND_DESKTOP_SCREEN: ("电脑屏幕", "Desktop screen"),
    c.STREAM_KIND_PHONE_EVIDENCE: ("手机机位", "Phone evidence"),
    c.STREAM_KIND_PHONE_ROOM_SCAN: ("手机环视", "Phone room scan"),
}
STREAM_STATE: dict[int, tuple[str, str]] = {
    m.STREAM_STATE_OPEN: ("上传中", "Open"), m.STREAM_STATE_CLOSED: ("校验中", "Closed"),
    m.STREAM_STATE_VERIFIED: ("已校验", "Verified"),
    m.STREAM_STATE_VERIFICATION_FAILED: ("校验失败", "Verification failed"),
}
ACTOR_KIND: dict[int, tuple[str, str]] = {
    c.ACTOR_KIND_CANDIDATE: ("考生", "Candidate"), c.ACTOR_KIND_DEVICE: ("手机", "Phone"),
    c.ACTOR_KIND_PROCTOR: ("监考员", "Proctor"), c.ACTOR_KIND_STAFF: ("工作人员", "Staff"),
    c.ACTOR_KIND_SERVICE: ("服务", "Service"), c.ACTOR_KIND_SYSTEM: ("系统", "System"),
}
ACTION_KIND: dict[int, tuple[str, str]] = {
    n.INCIDENT_ACTION_KIND_OPENED: ("记录", "Recorded"), n.INCIDENT_ACTION_KIND_UPDATED: ("更新", "Updated"),
    n.INCIDENT_ACTION_KIND_CLOSED: ("信号结束", "Signal ended"),
    n.INCIDENT_ACTION_KIND_ACKNOWLEDGED: ("受理", "Acknowledged"),
    n.INCIDENT_ACTION_KIND_ESCALATED: ("上报", "Escalated"), n.INCIDENT_ACTION_KIND_RESOLVED: ("裁定", "Resolved"),
    n.INCIDENT_ACTION_KIND_NOTICE_SENT: ("已提醒考生", "Notice sent"),
}
ESCALATION: dict[int, tuple[str, str]] = {
    n.ESCALATION_TARGET_CHIEF_PROCTOR: ("主监考", "Chief proctor"),
    n.ESCALATION_TARGET_TECH_SUPPORT: ("技术支持", "Tech support"),
    n.ESCALATION_TARGET_REVIEW_BOARD: ("复核组", "Review board"),
}
SOURCE: dict[int, tuple[str, str]] = {
    c.INCIDENT_SOURCE_DETECTOR: ("画面检测", "Detector"), c.INCIDENT_SOURCE_TELEMETRY: ("客户端遥测", "Telemetry"),
    c.INCIDENT_SOURCE_SESSION: ("考试会话", "Session"), c.INCIDENT_SOURCE_AUTH: ("人脸认证", "Auth"),
    c.INCIDENT_SOURCE_MEDIA: ("录像上传", "Media"),
}
CHAT_DIRECTION: dict[int, tuple[str, str]] = {
    c.CHAT_DIRECTION_CANDIDATE_TO_PROCTOR: ("考生求助", "Candidate"),
    c.CHAT_DIRECTION_PROCTOR_TO_CANDIDATE: ("监考回复", "Proctor reply"),
}
SITTING_KIND: dict[int, tuple[str, str]] = {
    c.SITTING_KIND_FORMAL: ("正式考试", "Formal"), c.SITTING_KIND_MOCK: ("模拟考试", "Mock"),
}


def pair(table: dict[int, tuple[str, str]], enum: EnumTypeWrapper, value: int) -> tuple[str, str]:
    """(zh, en) of an enum value; unknown values fall back to their protobuf name (or number)."""
    if value in table:
        return table[value]
    try:
        name = enum.Name(value)
    except ValueError:
        name = str(value)
    return name, name


def label(table: dict[int, tuple[str, str]], enum: EnumTypeWrapper, value: int) -> str:
    zh, en = pair(table, enum, value)
    return zh if zh == en else f"{zh} / {en}"


def kind(value: int) -> str:
    return label(INCIDENT_KIND, c.IncidentKind, value)


def kind_key(value: int) -> str:
    """The stable machine name of an incident kind (JSON output), e.g. ``MULTIPLE_FACES``."""
    try:
        return c.IncidentKind.Name(value).removeprefix("INCIDENT_KIND_")
    except ValueError:
        return str(value)

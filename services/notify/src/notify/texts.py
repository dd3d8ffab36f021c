"""What candidates read: automatic warnings for camera incidents and upload status notices."""

from __future__ import annotations

from datetime import datetime

from proctor.common.v1 import common_pb2 as c
from proctor.events.v1 import media_pb2
from proctor_runtime.events import ts

# incident kind -> (zh-CN, en): said to the candidate when the incident opens
WARNINGS: dict[int, tuple[str, str]] = {
    c.INCIDENT_KIND_NO_FACE: ("请保持面部在画面内", "Keep your face in view"),
    c.INCIDENT_KIND_MULTIPLE_FACES: ("考试期间画面中只能有考生本人", "Only you may be in view during the exam"),
    c.INCIDENT_KIND_FACE_MASKED: ("请摘下口罩，露出完整面部", "Remove your mask so your whole face is visible"),
    c.INCIDENT_KIND_FACE_OCCLUDED: ("请勿遮挡面部", "Do not cover your face"),
    c.INCIDENT_KIND_CAMERA_COVERED: ("请勿遮挡摄像头", "Do not cover the camera"),
    c.INCIDENT_KIND_TOO_DARK: ("画面过暗，请改善照明", "The picture is too dark; improve the lighting"),
    c.INCIDENT_KIND_GAZE_AWAY: ("请面向屏幕作答", "Face the screen while answering"),
    c.INCIDENT_KIND_SECOND_MONITOR: ("请断开额外的显示器", "Disconnect the extra monitor"),
    c.INCIDENT_KIND_PHONE_CANDIDATE_NOT_VISIBLE: ("手机画面中需能看到您本人", "The phone camera must show you"),
    c.INCIDENT_KIND_PHONE_CAMERA_COVERED: ("请勿遮挡手机摄像头", "Do not cover the phone camera"),
    c.INCIDENT_KIND_PHONE_CAMERA_MOVED: ("请将手机放回原位", "Put the phone back in its position"),
}
PHONE_KINDS = frozenset({c.INCIDENT_KIND_PHONE_CANDIDATE_NOT_VISIBLE, c.INCIDENT_KIND_PHONE_CAMERA_COVERED,
                         c.INCIDENT_KIND_PHONE_CAMERA_MOVED})


def auto_warning(incident: c.Incident, now: datetime) -> c.Notice | None:
    text = WARNINGS.get(incident.kind)
    if text is None:
        return None
    device = c.DEVICE_KIND_PHONE if incident.kind in PHONE_KINDS else c.DEVICE_KIND_DESKTOP
    return c.Notice(notice_id=f"{incident.incident_id}:warning", sitting_id=incident.sitting_id,
                    candidate_id=incident.candidate_id, kind=c.NOTICE_KIND_WARNING,
                    severity=incident.severity or c.SEVERITY_MEDIUM,
                    text=c.LocalizedText(zh=text[0], en=text[1]), target_device=device, created_at=ts(now),
                    related_incident_id=incident.incident_id)


def upload_notice(event: media_pb2.MediaStreamEvent, now: datetime) -> c.Notice | None:
    m = event.meta
    if not (m.sitting_id and m.candidate_id):
        return None
    base = f"{m.sitting_id}:{m.candidate_id}:{event.attempt_number or 1}"
    if event.kind == media_pb2.MEDIA_STREAM_EVENT_KIND_CANDIDATE_UPLOAD_COMPLETE:
        notice_id, severity = f"{base}:upload-complete", c.SEVERITY_INFO
        text = c.LocalizedText(zh="上传成功，您可以关闭客户端", en="Upload complete; you may close the app")
    elif event.kind == media_pb2.MEDIA_STREAM_EVENT_KIND_UPLOAD_DEADLINE_MISSED:
        notice_id, severity = f"{base}:upload-deadline-missed", c.SEVERITY_HIGH
        text = c.LocalizedText(zh="上传截止时间已过，录像不完整，请联系考务人员",
                               en="The upload deadline has passed and recordings are incomplete; contact exam staff")
    elif event.kind == media_pb2.MEDIA_STREAM_EVENT_KIND_STREAM_VERIFICATION_FAILED:
        notice_id, severity = f"{base}:{event.stream_id}:verification-failed", c.SEVERITY_HIGH
        text = c.LocalizedText(zh="有录像未能完整上传，请保持客户端开启并重新上传",
                               en="A recording did not upload completely; keep the app open to upload it again")
    else:
        return None
    notice = c.Notice(notice_id=notice_id, sitting_id=m.sitting_id, candidate_id=m.candidate_id,
                      kind=c.NOTICE_KIND_UPLOAD_STATUS, severity=severity, text=text, created_at=ts(now))
    if event.HasField("progress"):
        notice.upload.CopyFrom(event.progress)
    return notice

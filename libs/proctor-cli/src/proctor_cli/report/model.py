"""The review report as data: what ``proctor report`` gathered over gRPC, before any HTML.

The model keeps the services' own protobuf messages (no second copy of their fields) and adds what
the report derives from them: each candidate's timeline, the recording link of every piece of
evidence, and the room summary tables. Everything here is pure (no I/O), so rendering can be tested
on a gathered model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from proctor.common.v1 import common_pb2
from proctor.exam.v1 import exam_session_pb2
from proctor.media.v1 import media_ingest_pb2
from proctor.notify.v1 import notify_pb2
from proctor_cli.report import labels


def when(value: Timestamp) -> datetime | None:
    """A protobuf timestamp as an aware UTC datetime; None when unset."""
    if value.seconds == 0 and value.nanos == 0:
        return None
    return value.ToDatetime(tzinfo=UTC)


def seconds(value: Duration) -> float:
    return value.seconds + value.nanos / 1e9


@dataclass(frozen=True)
class Thumbnail:
    """An evidence thumbnail copied into the report directory (``file`` relative to it), or why not."""

    source_uri: str
    file: str = ""
    error: str = ""


@dataclass(frozen=True)
class RecordingLink:
    """Where in the stitched per-stream recording an incident's evidence is."""

    uri: str  # the playlist / recording (file://, s3://, https://)
    start_s: float
    end_s: float | None
    stream_id: str
    stream_kind: int

    @property
    def fragment(self) -> str:
        """The W3C media fragment (``#t=start[,end]``) for a player."""
        end = f",{self.end_s:.3f}" if self.end_s is not None and self.end_s > self.start_s else ""
        return f"#t={self.start_s:.3f}{end}"


@dataclass(frozen=True)
class EvidenceEntry:
    evidence: common_pb2.Evidence
    recording: RecordingLink | None

    @property
    def stream_id(self) -> str:
        return stream_of(self.evidence)


@dataclass(frozen=True)
class IncidentEntry:
    view: notify_pb2.IncidentView
    history: list[notify_pb2.IncidentAction]
    evidence: list[EvidenceEntry]

    @property
    def incident(self) -> common_pb2.Incident:
        return self.view.incident

    @property
    def anchor(self) -> str:
        return "incident-" + "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in self.incident.incident_id)


@dataclass(frozen=True)
class StreamUpload:
    """One media stream as media-ingest reports it, with its manifest's completeness."""

    info: media_ingest_pb2.MediaStreamInfo
    segments: int = 0
    missing_segments: tuple[int, ...] = ()
    media_seconds: float = 0.0
    playlist_uri: str = ""
    manifest_error: str = ""


@dataclass(frozen=True)
class UploadSummary:
    status: media_ingest_pb2.CandidateUploadStatus | None  # None: the candidate never started uploading
    streams: list[StreamUpload] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.status is not None and self.status.progress.complete

    def playlist_of(self, stream_id: str) -> str:
        for stream in self.streams:
            if stream.info.stream_id == stream_id and stream.playlist_uri:
                return stream.playlist_uri
        return ""


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    category: str  # sitting | state | incident | handling | help | upload
    title: str     # "中文 / English"
    detail: str = ""
    anchor: str = ""  # an incident's anchor on the candidate page
    order: int = 0    # tie-break for equal times (input order)


@dataclass
class CandidateReport:
    status: exam_session_pb2.CandidateStatus
    incidents: list[IncidentEntry]
    help: list[common_pb2.ChatMessage]
    upload: UploadSummary
    timeline: list[TimelineEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what a source could not tell about this candidate

    @property
    def candidate(self) -> common_pb2.CandidateSnapshot:
        return self.status.candidate

    def kind_counts(self) -> Counter[int]:
        return Counter(entry.incident.kind for entry in self.incidents)

    def verdict_counts(self) -> Counter[int]:
        return Counter(entry.view.verdict for entry in self.incidents)


@dataclass(frozen=True)
class RoomReport:
    room_id: str
    room: exam_session_pb2.Room | None
    summary: notify_pb2.IncidentSummary


@dataclass(frozen=True)
class KindRow:
    """One row of a room summary: the incidents of one kind, by status and by verdict."""

    kind: int
    total: int
    by_status: dict[int, int]
    by_verdict: dict[int, int]


@dataclass
class Report:
    sitting: exam_session_pb2.Sitting
    scope: str  # "candidate" | "room" | "sitting"
    scope_id: str
    rooms: list[RoomReport]
    candidates: list[CandidateReport]
    generated_at: datetime
    thumbnails: dict[str, Thumbnail] = field(default_factory=dict)  # by source URI

    def incident_count(self) -> int:
        return sum(len(c.incidents) for c in self.candidates)

    def kind_counts(self) -> Counter[int]:
        total: Counter[int] = Counter()
        for candidate in self.candidates:
            total.update(candidate.kind_counts())
        return total


def stream_of(evidence: common_pb2.Evidence) -> str:
    """The evidence's stream id; producers that only set segment_id ("<stream>:<index>") name it there."""
    if evidence.stream_id:
        return evidence.stream_id
    return evidence.segment_id.rsplit(":", 1)[0] if ":" in evidence.segment_id else ""


def recording_link(evidence: common_pb2.Evidence, upload: UploadSummary) -> RecordingLink | None:
    """The link into the stitched recording: the evidence's own playlist, else its stream's manifest."""
    stream_id = stream_of(evidence)
    uri = evidence.playlist_uri or upload.playlist_of(stream_id)
    if not uri:
        return None
    end = seconds(evidence.end_offset) if evidence.HasField("end_offset") else None
    return RecordingLink(uri=uri, start_s=seconds(evidence.start_offset), end_s=end, stream_id=stream_id,
                         stream_kind=evidence.stream_kind)


def incident_entry(detail: notify_pb2.IncidentDetail, upload: UploadSummary) -> IncidentEntry:
    evidence = [EvidenceEntry(e, recording_link(e, upload)) for e in detail.view.incident.evidence]
    return IncidentEntry(view=detail.view, history=list(detail.history), evidence=evidence)


def summary_rows(summary: notify_pb2.IncidentSummary, room_id: str | None = None) -> list[KindRow]:
    """The counts of SummarizeIncidents per incident kind (optionally of one room), most frequent first."""
    totals: Counter[int] = Counter()
    status: dict[int, Counter[int]] = {}
    verdict: dict[int, Counter[int]] = {}
    for row in summary.counts:
        if room_id is not None and row.room_id != room_id:
            continue
        totals[row.kind] += row.count
        status.setdefault(row.kind, Counter())[row.status] += row.count
        verdict.setdefault(row.kind, Counter())[row.verdict] += row.count
    return [KindRow(kind, count, dict(status[kind]), dict(verdict[kind]))
            for kind, count in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))]


def _actor(actor: common_pb2.Actor) -> str:
    if not actor.id and not actor.display_name:
        return ""
    who = actor.display_name or actor.id
    if actor.display_name and actor.id and actor.display_name != actor.id:
        who = f"{actor.display_name} ({actor.id})"
    return f"{labels.label(labels.ACTOR_KIND, common_pb2.ActorKind, actor.kind)} {who}"


def actor_text(actor: common_pb2.Actor) -> str:
    return _actor(actor) or "—"


def build_timeline(report: CandidateReport, sitting: exam_session_pb2.Sitting) -> list[TimelineEntry]:
    """Everything that happened to one candidate, oldest first: the sitting's milestones, state
    transitions, incidents and their handling, the help chat and the upload events."""
    out: list[TimelineEntry] = []

    def add(at: Timestamp, category: str, title: str, detail: str = "", anchor: str = "") -> None:
        moment = when(at)
        if moment is not None:
            out.append(TimelineEntry(moment, category, title, detail, anchor, len(out)))

    t = report.status.timeline if report.status.HasField("timeline") else sitting.timeline
    for name, title in (("start", "考试开始 / Exam starts"), ("last_entry", "截止进入 / Last entry"),
                        ("end", "考试结束 / Exam ends"), ("upload_deadline", "上传截止 / Upload deadline")):
        add(getattr(t, name), "sitting", title)
    for step in report.status.history:
        src = labels.label(labels.CANDIDATE_STATE, common_pb2.CandidateState, step.from_state)
        dst = labels.label(labels.CANDIDATE_STATE, common_pb2.CandidateState, step.to_state)
        detail = "; ".join(p for p in (_actor(step.actor), step.reason) if p)
        add(step.at, "state", f"{src} → {dst}", detail)
    for entry in report.incidents:
        inc = entry.incident
        title = labels.kind(inc.kind)
        summary = " / ".join(p for p in (inc.summary.zh, inc.summary.en) if p)
        add(inc.start_time, "incident", f"异常开始 / Incident started: {title}", summary, entry.anchor)
        add(inc.end_time, "incident", f"异常结束 / Incident ended: {title}", "", entry.anchor)
        for action in entry.history:
            if action.kind in (notify_pb2.INCIDENT_ACTION_KIND_OPENED, notify_pb2.INCIDENT_ACTION_KIND_UPDATED,
                               notify_pb2.INCIDENT_ACTION_KIND_CLOSED):
                continue  # the detection itself is shown by its start and end above
            what = labels.label(labels.ACTION_KIND, notify_pb2.IncidentActionKind, action.kind)
            parts = [_actor(action.actor)]
            if action.kind == notify_pb2.INCIDENT_ACTION_KIND_RESOLVED:
                parts.append(labels.label(labels.VERDICT, common_pb2.Verdict, action.verdict))
            if action.kind == notify_pb2.INCIDENT_ACTION_KIND_ESCALATED:
                parts.append(labels.label(labels.ESCALATION, notify_pb2.EscalationTarget, action.escalated_to))
            parts.append(action.note)
            add(action.at, "handling", f"{what}: {title}", "; ".join(p for p in parts if p), entry.anchor)
    for message in report.help:
        direction = labels.label(labels.CHAT_DIRECTION, common_pb2.ChatDirection, message.direction)
        who = _actor(message.author)
        add(message.sent_at, "help", f"求助对话 / Help chat: {direction}", f"{who}: {message.text}" if who
            else message.text)
    _upload_events(report.upload, add)
    out.sort(key=lambda e: (e.at, e.order))
    return out


def _upload_events(upload: UploadSummary, add: Callable[..., None]) -> None:
    for stream in upload.streams:
        info = stream.info
        name = labels.label(labels.STREAM_KIND, common_pb2.StreamKind, info.kind)
        add(info.opened_at, "upload", f"开始录制上传 / Stream opened: {name}", info.stream_id)
        add(info.closed_at, "upload", f"录像关闭 / Stream closed: {name}",
            f"{info.segments_complete} segments, {info.bytes_committed} bytes")
        add(info.verified_at, "upload", f"录像已校验 / Stream verified: {name}", info.stream_id)
    if upload.status is not None:
        add(upload.status.complete_at, "upload", "上传完成 / Upload complete",
            f"{upload.status.progress.streams_verified}/{upload.status.progress.streams_total} streams verified")

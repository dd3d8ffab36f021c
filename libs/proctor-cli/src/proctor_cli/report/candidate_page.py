"""One candidate's page of the review report: incidents with thumbnails, recording links and
verdicts, the help chat, upload completeness and the timeline; and the evidence player pages."""

from __future__ import annotations

from datetime import tzinfo
from urllib.parse import unquote, urlparse

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from proctor.common.v1 import common_pb2
from proctor.media.v1 import media_ingest_pb2
from proctor.notify.v1 import notify_pb2
from proctor_cli.report import labels
from proctor_cli.report.files import slug
from proctor_cli.report.markup import esc, facts, link, linkable, moment, offset, page, stamp, table
from proctor_cli.report.model import CandidateReport, EvidenceEntry, IncidentEntry, Report, actor_text, seconds


def candidate_path(candidate: CandidateReport) -> str:
    return f"candidates/{slug(candidate.candidate.candidate_id)}.html"


def player_path(entry: IncidentEntry, index: int) -> str:
    return f"players/{slug(entry.incident.incident_id)}-{index}.html"


def _l(table_: dict[int, tuple[str, str]], enum: EnumTypeWrapper, value: int) -> str:
    return esc(labels.label(table_, enum, value))


def _header(report: Report, candidate: CandidateReport, tz: tzinfo) -> str:
    snap, status = candidate.candidate, candidate.status
    kinds = ", ".join(f"{esc(labels.kind(k))} × {n}" for k, n in sorted(candidate.kind_counts().items()))
    verdicts = ", ".join(f"{_l(labels.VERDICT, common_pb2.Verdict, v)} × {n}"
                         for v, n in sorted(candidate.verdict_counts().items()))
    rows = [
        ("考生 / Candidate", f"{esc(snap.display_name)} <code>{esc(snap.candidate_id)}</code>"),
        ("场次 / Sitting", f"{esc(report.sitting.name)} <code>{esc(report.sitting.sitting_id)}</code>"),
        ("考场 / Room", esc(snap.room_id)),
        ("状态 / State", f"{_l(labels.CANDIDATE_STATE, common_pb2.CandidateState, snap.state)} "
                       f"<span class=\"muted\">(since {esc(stamp(snap.state_since, tz))})</span>"),
        ("考试次数 / Attempt", f"{snap.attempt_number or 1}"
                           + (f" / {status.attempt_limit}" if status.attempt_limit else "")),
        ("异常 / Incidents", f"{len(candidate.incidents)}" + (f" — {kinds}" if kinds else "")),
        ("裁定 / Verdicts", verdicts or "—"),
    ]
    for note in candidate.notes:
        rows.append(("注意 / Note", f'<span class="missing">{esc(note)}</span>'))
    if snap.zero_score or status.zero_score_reason:
        rows.append(("零分 / Zero score", f'<span class="missing">{esc(status.zero_score_reason or "yes")}</span>'))
    return facts(rows)


def _evidence(report: Report, entry: IncidentEntry, index: int, evidence: EvidenceEntry, tz: tzinfo) -> str:
    ev = evidence.evidence
    parts = ["<figure>"]
    thumb = report.thumbnails.get(ev.thumbnail_uri) if ev.thumbnail_uri else None
    if thumb is not None and thumb.file:
        parts.append(f'<img src="../{esc(thumb.file)}" alt="{esc(labels.kind(entry.incident.kind))}" '
                     f'data-source="{esc(ev.thumbnail_uri)}">')
    elif ev.thumbnail_uri:
        why = thumb.error if thumb is not None else "not copied"
        parts.append(f'<p class="missing">缩略图缺失 / Thumbnail missing: <code>{esc(ev.thumbnail_uri)}</code> '
                     f'({esc(why)})</p>')
    caption = [_l(labels.STREAM_KIND, common_pb2.StreamKind, ev.stream_kind),
               f"captured {esc(stamp(ev.captured_at, tz))}"]
    if ev.note:
        caption.append(esc(ev.note))
    rec = evidence.recording
    if rec is not None:
        span = offset(rec.start_s) + (f" – {offset(rec.end_s)}" if rec.end_s is not None else "")
        player = link(f"../{player_path(entry, index)}", f"▶ 回放 / Play at {span}", "play")
        direct = (link(rec.uri + rec.fragment, "录像 / Recording", "recording") if linkable(rec.uri)
                  else f"<code>{esc(rec.uri)}</code>")
        caption.append(f'{player} · {direct} <span class="muted" data-offset="{rec.start_s:.3f}">'
                       f"offset {esc(span)}</span>")
    elif ev.stream_id or ev.segment_id:
        caption.append(f'<span class="muted">录像尚未拼接 / recording not stitched yet '
                       f"(segment <code>{esc(ev.segment_id)}</code>, offset {esc(offset(seconds(ev.start_offset)))})"
                       "</span>")
    parts.append("<figcaption>" + "<br>".join(caption) + "</figcaption></figure>")
    return "".join(parts)


def _handling(entry: IncidentEntry, tz: tzinfo) -> str:
    view = entry.view
    rows = [("处理状态 / Status", _l(labels.STATUS, common_pb2.IncidentStatus, view.status))]
    if view.status == common_pb2.INCIDENT_STATUS_RESOLVED or view.verdict:
        rows.append(("裁定 / Verdict", f'<span class="verdict verdict-{view.verdict}">'
                                     f"{_l(labels.VERDICT, common_pb2.Verdict, view.verdict)}</span>"))
        rows.append(("裁定人 / By", f'{esc(actor_text(view.resolved_by))}, {esc(stamp(view.resolved_at, tz))}'))
        rows.append(("备注 / Note", f'<span class="note">{esc(view.note) or "—"}</span>'))
    if view.acknowledged_by.id:
        rows.append(("受理 / Acknowledged", f"{esc(actor_text(view.acknowledged_by))}, "
                                          f"{esc(stamp(view.acknowledged_at, tz))}"))
    if view.escalated_to:
        rows.append(("上报 / Escalated", f"{_l(labels.ESCALATION, notify_pb2.EscalationTarget, view.escalated_to)}"
                                       f" — {esc(view.escalation_reason)}"))
    history = [[esc(stamp(a.at, tz)), _l(labels.ACTION_KIND, notify_pb2.IncidentActionKind, a.kind),
                esc(actor_text(a.actor)),
                _l(labels.VERDICT, common_pb2.Verdict, a.verdict) if a.verdict else "",
                esc(a.note)] for a in entry.history]
    out = facts(rows)
    if history:
        out += table(["时间 / Time", "操作 / Action", "操作人 / Who", "裁定 / Verdict", "备注 / Note"], history,
                     "history")
    return out


def _incident(report: Report, entry: IncidentEntry, tz: tzinfo) -> str:
    inc = entry.incident
    end = stamp(inc.end_time, tz) if inc.HasField("end_time") else "进行中 / ongoing"
    rows = [
        ("时间 / Time", f"{esc(stamp(inc.start_time, tz))} – {esc(end)}"),
        ("严重程度 / Severity", _l(labels.SEVERITY, common_pb2.Severity, inc.severity)
         + f" <span class=\"muted\">confidence {inc.confidence:.2f}</span>"),
        ("来源 / Source", _l(labels.SOURCE, common_pb2.IncidentSource, inc.source)
         + (f" <code>{esc(inc.detector)}</code>" if inc.detector else "")
         + (f" <span class=\"muted\">{esc(inc.model_pack.id)} {esc(inc.model_pack.version)}</span>"
            if inc.model_pack.id else "")),
        ("说明 / Summary", f'<span class="summary" lang="zh-CN">{esc(inc.summary.zh)}</span><br>'
                         f'<span class="summary" lang="en">{esc(inc.summary.en)}</span>'),
    ]
    if inc.attributes:
        rows.append(("属性 / Attributes", ", ".join(f"<code>{esc(k)}={esc(v)}</code>"
                                                  for k, v in sorted(inc.attributes.items()))))
    evidence = "".join(_evidence(report, entry, i, e, tz) for i, e in enumerate(entry.evidence))
    return (f'<article class="incident sev-{inc.severity}" id="{esc(entry.anchor)}" '
            f'data-incident="{esc(inc.incident_id)}" data-kind="{esc(labels.kind_key(inc.kind))}" '
            f'data-verdict="{entry.view.verdict}">'
            f"<h3>{esc(labels.kind(inc.kind))} <span class=\"badge\">{esc(inc.incident_id)}</span></h3>"
            + facts(rows) + (f'<div class="evidence">{evidence}</div>' if evidence else "")
            + _handling(entry, tz) + "</article>")


def _help(candidate: CandidateReport, tz: tzinfo) -> str:
    if not candidate.help:
        return '<p class="muted">无求助 / No help messages.</p>'
    rows = []
    for m in candidate.help:
        cls = "c2p" if m.direction == common_pb2.CHAT_DIRECTION_CANDIDATE_TO_PROCTOR else "p2c"
        rows.append([esc(stamp(m.sent_at, tz)), _l(labels.CHAT_DIRECTION, common_pb2.ChatDirection, m.direction),
                     esc(actor_text(m.author)), f'<span class="{cls} message">{esc(m.text)}</span>'])
    return table(["时间 / Time", "方向 / Direction", "发送人 / From", "内容 / Message"], rows, "chat")


def _upload(candidate: CandidateReport, tz: tzinfo) -> str:
    upload = candidate.upload
    if upload.status is None:
        return '<p class="missing">未开始上传 / The candidate never started uploading.</p>'
    p = upload.status.progress
    verdict = ('<span class="ok">完成 / Complete</span>' if p.complete
               else '<span class="missing">未完成 / Incomplete</span>')
    rows = [("上传 / Upload", verdict + (f", {esc(stamp(upload.status.complete_at, tz))}"
                                          if p.complete else "")),
            ("已校验 / Verified streams", f"{p.streams_verified} / {p.streams_total}"),
            ("数据量 / Bytes", f"{p.bytes_committed:,}"),
            ("截止 / Deadline", esc(stamp(p.upload_deadline, tz)) + (' <span class="missing">迟交 / late</span>'
                                                                    if p.late else ""))]
    if p.missing_kinds:
        rows.append(("缺少 / Missing streams", ", ".join(_l(labels.STREAM_KIND, common_pb2.StreamKind, k)
                                                       for k in p.missing_kinds)))
    if p.problems:
        rows.append(("问题 / Problems", "<br>".join(f"{esc(t.zh)} / {esc(t.en)}" for t in p.problems)))
    streams = []
    for s in upload.streams:
        info = s.info
        missing = (f'<span class="missing">{esc(", ".join(str(i) for i in s.missing_segments))}</span>'
                   if s.missing_segments else "—")
        recording = (link(s.playlist_uri, "录像 / Recording") if linkable(s.playlist_uri)
                     else esc(s.playlist_uri or "—"))
        streams.append([_l(labels.STREAM_KIND, common_pb2.StreamKind, info.kind),
                        _l(labels.STREAM_STATE, media_ingest_pb2.StreamState, info.state),
                        str(s.segments or info.segments_complete), missing, f"{info.bytes_committed:,}",
                        f"{s.media_seconds:.1f}", esc(stamp(info.opened_at, tz)), esc(stamp(info.verified_at, tz)),
                        ("迟交 / late " if info.late else "") + esc(", ".join(info.problems))
                        + (f' <span class="missing">{esc(s.manifest_error)}</span>' if s.manifest_error else ""),
                        recording])
    head = ["录像 / Stream", "状态 / State", "片段 / Segments", "缺失 / Missing", "字节 / Bytes", "时长 s / Seconds",
            "开始 / Opened", "校验 / Verified", "问题 / Problems", "回放 / Playback"]
    return facts(rows) + (table(head, streams, "streams", {2, 4, 5}) if streams else "")


def _timeline(candidate: CandidateReport, tz: tzinfo) -> str:
    rows = []
    for e in candidate.timeline:
        title = link(f"#{e.anchor}", e.title) if e.anchor else esc(e.title)
        rows.append([esc(moment(e.at, tz)), esc(e.category), title, esc(e.detail)])
    return table(["时间 / Time", "类别 / Category", "事件 / Event", "详情 / Detail"], rows, "timeline")


def candidate_page(report: Report, candidate: CandidateReport, tz: tzinfo) -> str:
    snap = candidate.candidate
    incidents = "".join(_incident(report, e, tz) for e in candidate.incidents) or \
        '<p class="muted">无异常 / No incidents.</p>'
    body = ('<nav><a href="../index.html">← 汇总 / Summary</a></nav>'
            f"<header><h1>考生复核 / Candidate review: {esc(snap.display_name)} "
            f"<code>{esc(snap.candidate_id)}</code></h1>{_header(report, candidate, tz)}</header>"
            f'<section id="incidents"><h2>异常 / Incidents</h2>{incidents}</section>'
            f'<section id="help"><h2>求助对话 / Help chat</h2>{_help(candidate, tz)}</section>'
            f'<section id="upload"><h2>上传完整性 / Upload completeness</h2>{_upload(candidate, tz)}</section>'
            f'<section id="timeline"><h2>时间线 / Timeline</h2>{_timeline(candidate, tz)}</section>')
    return page(f"考生复核 / Candidate review — {snap.candidate_id}", body)


def player_page(report: Report, candidate: CandidateReport, entry: IncidentEntry, index: int, tz: tzinfo) -> str:
    """A page that opens the stitched recording at the evidence's offset (``#t=`` media fragment),
    with the URI and the offset spelled out for a desktop player (mpv / ffplay) when the browser
    cannot play the playlist itself."""
    evidence = entry.evidence[index]
    rec = evidence.recording
    assert rec is not None
    source = rec.uri + rec.fragment
    video = (f'<video controls preload="metadata" src="{esc(source)}"></video>' if linkable(rec.uri)
             else '<p class="muted">此录像不在本地或网页可访问的位置 / The recording is not browsable from here.</p>')
    rows = [("考生 / Candidate", esc(candidate.candidate.candidate_id)),
            ("异常 / Incident", f"{esc(labels.kind(entry.incident.kind))} <code>{esc(entry.incident.incident_id)}"
                              "</code>"),
            ("录像 / Recording", link(source, rec.uri) if linkable(rec.uri) else f"<code>{esc(rec.uri)}</code>"),
            ("录像流 / Stream", _l(labels.STREAM_KIND, common_pb2.StreamKind, rec.stream_kind)
             + f" <code>{esc(rec.stream_id)}</code>"),
            ("偏移 / Offset", f'<span data-offset="{rec.start_s:.3f}">{esc(offset(rec.start_s))}</span>'
             + (f" – {esc(offset(rec.end_s))}" if rec.end_s is not None else "")),
            ("拍摄时间 / Captured", esc(stamp(evidence.evidence.captured_at, tz))),
            ("桌面播放器 / Desktop player",
             f"<code>mpv --start={rec.start_s:.3f} {esc(_quoted(rec.uri))}</code><br>"
             f"<code>ffplay -ss {rec.start_s:.3f} {esc(_quoted(rec.uri))}</code>")]
    back = f"../{candidate_path(candidate)}#{entry.anchor}"
    body = (f'<nav>{link(back, "← 考生 / Candidate")}</nav>'
            f"<h1>回放 / Playback at {esc(offset(rec.start_s))}</h1>{video}{facts(rows)}")
    return page(f"回放 / Playback — {entry.incident.incident_id}", body)


def _quoted(uri: str) -> str:
    """The URI as a shell argument (file:// as a local path)."""
    parsed = urlparse(uri)
    target = unquote(parsed.path) if parsed.scheme == "file" else uri
    return "'" + target.replace("'", "'\\''") + "'"

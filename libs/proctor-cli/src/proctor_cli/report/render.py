"""HTML pages of the review report: ``index.html`` (the sitting or room summary and the candidate
list), one page per candidate under ``candidates/`` and one small player page per piece of
recorded evidence under ``players/``. Plain HTML with the CSS inline, no JavaScript."""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path

from proctor.common.v1 import common_pb2
from proctor_cli.report import labels
from proctor_cli.report.candidate_page import candidate_page, candidate_path, player_page, player_path
from proctor_cli.report.markup import esc, facts, link, page, stamp, table, zone
from proctor_cli.report.model import CandidateReport, Report, RoomReport, summary_rows

STATUSES = [common_pb2.INCIDENT_STATUS_NEW, common_pb2.INCIDENT_STATUS_ACKNOWLEDGED,
            common_pb2.INCIDENT_STATUS_ESCALATED, common_pb2.INCIDENT_STATUS_RESOLVED]
VERDICTS = [common_pb2.VERDICT_CONFIRMED, common_pb2.VERDICT_FALSE_ALARM, common_pb2.VERDICT_NEEDS_REVIEW,
            common_pb2.VERDICT_UNSPECIFIED]


def write_report(report: Report, out_dir: Path) -> list[Path]:
    """Write every page of the report into ``out_dir``; the files written (pages only)."""
    tz = zone(report.sitting.time_zone)
    written: list[Path] = []

    def write(relative: str, text: str) -> None:
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)

    write("index.html", index_page(report, tz))
    for candidate in report.candidates:
        write(candidate_path(candidate), candidate_page(report, candidate, tz))
        for entry in candidate.incidents:
            for index, evidence in enumerate(entry.evidence):
                if evidence.recording is not None:
                    write(player_path(entry, index), player_page(report, candidate, entry, index, tz))
    return written


def _sitting_facts(report: Report, tz: tzinfo) -> str:
    s = report.sitting
    t = s.timeline
    scope = {"candidate": "考生 / Candidate", "room": "考场 / Room", "sitting": "全场次 / Whole sitting"}[report.scope]
    return facts([
        ("场次 / Sitting", f"{esc(s.name)} <code>{esc(s.sitting_id)}</code>"),
        ("类型 / Kind", esc(labels.label(labels.SITTING_KIND, common_pb2.SittingKind, s.kind))),
        ("范围 / Scope", esc(scope) + (f" <code>{esc(report.scope_id)}</code>" if report.scope_id else "")),
        ("时区 / Time zone", esc(s.time_zone or "Asia/Shanghai")),
        ("考试时间 / Exam", f"{esc(stamp(t.start, tz))} – {esc(stamp(t.end, tz))}"),
        ("截止进入 / Last entry", esc(stamp(t.last_entry, tz))),
        ("上传截止 / Upload deadline", esc(stamp(t.upload_deadline, tz))),
        ("生成时间 / Generated", esc(report.generated_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"))),
    ])


def room_summary(room: RoomReport, room_filter: str | None) -> str:
    """Counts per incident kind, status and verdict (SummarizeIncidents) and candidates per state."""
    rows = summary_rows(room.summary, room_filter)
    head = (["异常类型 / Kind", "合计 / Total"]
            + [labels.label(labels.STATUS, common_pb2.IncidentStatus, s) for s in STATUSES]
            + [labels.label(labels.VERDICT, common_pb2.Verdict, v) for v in VERDICTS])
    body: list[list[str]] = []
    for row in rows:
        key = labels.kind_key(row.kind)
        cells = [esc(labels.kind(row.kind)), f'<span data-kind="{esc(key)}" data-col="total">{row.total}</span>']
        cells += [f'<span data-kind="{esc(key)}" data-col="status-{s}">{row.by_status.get(s, 0)}</span>'
                  for s in STATUSES]
        cells += [f'<span data-kind="{esc(key)}" data-col="verdict-{v}">{row.by_verdict.get(v, 0)}</span>'
                  for v in VERDICTS]
        body.append(cells)
    total = sum(r.total for r in rows)
    body.append(["合计 / All kinds", f'<span data-kind="ALL" data-col="total">{total}</span>']
                + [str(sum(r.by_status.get(s, 0) for r in rows)) for s in STATUSES]
                + [str(sum(r.by_verdict.get(v, 0) for r in rows)) for v in VERDICTS])
    numeric = set(range(1, len(head)))
    out = table(head, body, "summary", numeric) if rows else '<p class="muted">无异常 / No incidents.</p>'
    if room.room is not None:
        states = ", ".join(f"{esc(labels.label(labels.CANDIDATE_STATE, common_pb2.CandidateState, sc.state))}: "
                           f"{sc.count}" for sc in room.room.state_counts)
        out = f'<p>考生 / Candidates: {room.room.candidate_count} <span class="muted">({states})</span></p>' + out
    return out


def _rooms_section(report: Report) -> str:
    parts = ["<section id=\"rooms\"><h2>考场汇总 / Room summary</h2>"]
    for room in report.rooms:
        title = f"考场 / Room {room.room_id}" if room.room_id else "全部考场 / All rooms"
        parts.append(f'<div class="room" data-room="{esc(room.room_id)}"><h3>{esc(title)}</h3>')
        parts.append(room_summary(room, room.room_id or None))
        parts.append("</div>")
    parts.append("</section>")
    return "".join(parts)


def _candidate_row(report: Report, candidate: CandidateReport) -> list[str]:
    snap = candidate.candidate
    verdicts = candidate.verdict_counts()
    upload = candidate.upload
    if upload.status is None:
        upload_text = '<span class="missing">未开始 / Not started</span>'
    elif upload.complete:
        upload_text = '<span class="ok">完成 / Complete</span>'
    else:
        p = upload.status.progress
        upload_text = f'<span class="missing">未完成 / Incomplete {p.streams_verified}/{p.streams_total}</span>'
    return [link(candidate_path(candidate), snap.candidate_id), esc(snap.display_name), esc(snap.room_id),
            esc(labels.label(labels.CANDIDATE_STATE, common_pb2.CandidateState, snap.state)),
            str(len(candidate.incidents)), str(verdicts.get(common_pb2.VERDICT_CONFIRMED, 0)),
            str(sum(1 for e in candidate.incidents if e.view.status != common_pb2.INCIDENT_STATUS_RESOLVED)),
            upload_text]


def index_page(report: Report, tz: tzinfo) -> str:
    head = ["考生编号 / Candidate", "姓名 / Name", "考场 / Room", "状态 / State", "异常 / Incidents",
            "确认违规 / Confirmed", "未裁定 / Open", "上传 / Upload"]
    rows = [_candidate_row(report, c) for c in report.candidates]
    body = (f"<header><h1>监考复核报告 / Review report</h1>{_sitting_facts(report, tz)}</header>"
            + _rooms_section(report)
            + "<section id=\"candidates\"><h2>考生 / Candidates</h2>"
            + (table(head, rows, "candidates", {4, 5, 6}) if rows else '<p class="muted">无考生 / No candidates.</p>')
            + "</section>")
    return page(f"监考复核报告 / Review report — {report.sitting.name or report.sitting.sitting_id}", body)


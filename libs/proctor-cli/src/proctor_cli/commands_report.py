"""``proctor report``: the review report of a sitting, a room or one candidate, as HTML.

``report.gather`` reads everything over gRPC with a staff or reviewer token and returns a
``report.model.Report``; ``report.files`` copies the thumbnails into the output directory,
``report.render`` writes the pages and ``report.pdf`` optionally prints them with headless Chromium.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from proctor.common.v1 import common_pb2
from proctor_cli.commands_exam import _staff_token
from proctor_cli.local import SERVICES, port_base
from proctor_cli.report import labels
from proctor_cli.report.files import ObjectFetcher, copy_thumbnails
from proctor_cli.report.gather import Gatherer, ReportError, Targets, gather_report
from proctor_cli.report.model import Report, summary_rows
from proctor_cli.report.pdf import find_chromium, print_pdf
from proctor_cli.report.render import write_report


def local_target(service: str) -> str:
    return f"127.0.0.1:{port_base() + SERVICES[service][3]}"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report", help="write the HTML review report of a sitting, a room or a candidate",
        description="Writes OUT/index.html (sitting or room summary, candidate list), OUT/candidates/<id>.html "
        "(timeline, incidents with thumbnails, recording links and verdicts, help chat, upload completeness), "
        "OUT/players/*.html (the stitched recording at an incident's offset) and OUT/thumbs/ (evidence copied "
        "from storage: file:// directly, s3:// with the MEDIA_STORAGE_S3_* endpoint and credentials).")
    p.add_argument("--sitting", required=True, help="sitting id")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--candidate", default="", help="one candidate (their room's summary is included)")
    scope.add_argument("--room", default="", help="one room: its summary and every candidate in it")
    p.add_argument("--out", required=True, type=Path, help="output directory (index.html, candidates/, thumbs/)")
    p.add_argument("--pdf", action="store_true", help="also print the pages to PDF with headless Chromium "
                   "(skipped, with the reason, when Chromium is not installed)")
    p.add_argument("--exam-session", default="", help="exam-session host:port (default: the local one)")
    p.add_argument("--notify", default="", help="notify host:port (default: the local one)")
    p.add_argument("--media-ingest", default="", help="media-ingest host:port (default: the local one)")
    p.add_argument("--token", default="", help="staff or reviewer token (default: $PROCTOR_TOKEN, or a local "
                   "dev staff token from the dev keyring)")
    p.add_argument("--concurrency", type=int, default=16, help="gRPC calls in flight")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=report_command)


async def _gather(args: argparse.Namespace) -> Report:
    targets = Targets(args.exam_session or local_target("exam-session"), args.notify or local_target("notify"),
                      args.media_ingest or local_target("media-ingest"))
    gatherer = Gatherer(targets, _staff_token(args), args.concurrency)
    try:
        return await gather_report(gatherer, args.sitting, args.candidate, args.room)
    finally:
        await gatherer.close()


def report_command(args: argparse.Namespace) -> dict[str, Any]:
    try:
        report = asyncio.run(_gather(args))
    except ReportError as exc:
        raise SystemExit(f"proctor report: {exc}") from exc
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    copy_thumbnails(report, out, ObjectFetcher())
    pages = write_report(report, out)
    result = summarize(report, out, pages)
    if args.pdf:
        chromium = find_chromium()
        if chromium is None:
            result["pdf_skipped"] = "chromium not found on PATH"
        else:
            printable = [p for p in pages if p.parent.name != "players"]
            try:
                result["pdf"] = sorted(p.relative_to(out).as_posix() for p in print_pdf(chromium, printable))
            except RuntimeError as exc:
                result["pdf_skipped"] = str(exc)
    result["text"] = _text(result)
    return result


def summarize(report: Report, out: Path, pages: list[Path]) -> dict[str, Any]:
    """The ``--json`` summary: files written, candidates, incidents, counts per kind."""
    thumbs = report.thumbnails.values()
    kinds = report.kind_counts()
    verdicts = Counter(e.view.verdict for c in report.candidates for e in c.incidents)
    first = report.rooms[0] if report.rooms else None  # the scope's room, or all rooms of the sitting
    room_rows = summary_rows(first.summary, first.room_id or None) if first else []
    return {
        "sitting_id": report.sitting.sitting_id, "scope": report.scope, "scope_id": report.scope_id,
        "out": str(out), "index": str(out / "index.html"),
        "files": sorted([p.relative_to(out).as_posix() for p in pages] + [t.file for t in thumbs if t.file]),
        "candidates": [c.candidate.candidate_id for c in report.candidates],
        "incidents": report.incident_count(),
        "counts_per_kind": {labels.kind_key(k): n for k, n in sorted(kinds.items())},
        "verdicts": {common_pb2.Verdict.Name(v).removeprefix("VERDICT_"): n for v, n in sorted(verdicts.items())},
        "room_summary_per_kind": {labels.kind_key(r.kind): r.total for r in room_rows},
        "room_summary_total": sum(r.total for r in room_rows),
        "thumbnails_copied": sum(1 for t in thumbs if t.file),
        "thumbnails_missing": [{"uri": t.source_uri, "error": t.error} for t in thumbs if not t.file],
        "uploads_complete": sum(1 for c in report.candidates if c.upload.complete),
    }


def _text(result: dict[str, Any]) -> str:
    kinds = ", ".join(f"{k} {n}" for k, n in result["counts_per_kind"].items()) or "none"
    lines = [f"report of {result['scope']} {result['scope_id'] or result['sitting_id']}: "
             f"{len(result['candidates'])} candidate(s), {result['incidents']} incident(s) ({kinds})",
             f"  {result['index']}  ({len(result['files'])} files, {result['thumbnails_copied']} thumbnails)"]
    lines += [f"  thumbnail missing: {m['uri']}: {m['error']}" for m in result["thumbnails_missing"][:20]]
    if "pdf" in result:
        lines.append(f"  pdf: {len(result['pdf'])} file(s)")
    if "pdf_skipped" in result:
        lines.append(f"  pdf skipped: {result['pdf_skipped']}")
    return "\n".join(lines)

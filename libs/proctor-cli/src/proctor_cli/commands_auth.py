"""``proctor enrol``: bulk face enrolment of an imported candidate list through auth-face's BulkEnrol
(a progress bar on stderr, a CSV report of the rejected photos)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from tqdm import tqdm

from proctor.auth.v1 import auth_face_pb2 as pb
from proctor.auth.v1 import auth_face_pb2_grpc
from proctor_cli.commands_exam import CSV_COLUMNS, _rpc_error, _staff_token
from proctor_cli.local import SERVICES, port_base

REPORT_COLUMNS = ["line", "candidate_id", "sitting_id", "photo", "reason", "message_en", "message_zh"]


def register(sub: Any) -> None:
    enrol = sub.add_parser("enrol", help="enrol the candidates' ID photos (face templates) from the list CSV")
    enrol.add_argument("--csv", type=Path, required=True, help="columns: candidate_id, sitting_id, id_photo "
                       "(the import-candidates format; other columns are ignored)")
    enrol.add_argument("--photos-root", type=Path, required=True, help="id_photo paths are relative to this")
    enrol.add_argument("--report", type=Path, help="write the rejected photos (line, id, reason) as CSV")
    enrol.add_argument("--replace", action="store_true", help="replace templates made from another photo")
    enrol.add_argument("--keep-photo", action="store_true", help="keep the photos (encrypted) for manual review")
    enrol.add_argument("--concurrency", type=int, default=8, help="photos in flight")
    enrol.add_argument("--no-progress", action="store_true")
    enrol.add_argument("--target", default="", help="auth-face host:port (default: the local one)")
    enrol.add_argument("--token", default="", help="staff token (default: $PROCTOR_TOKEN, or a local dev token)")
    enrol.add_argument("--json", action="store_true")
    enrol.set_defaults(handler=enrol_command)


@dataclass
class Row:
    line: int
    candidate_id: str
    sitting_id: str
    photo: str


def read_rows(path: Path) -> list[Row]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [h.strip().lower() for h in next(reader, [])]
        index: dict[str, int] = {}
        for field in ("candidate_id", "sitting_id", "id_photo"):
            found = next((header.index(a) for a in CSV_COLUMNS[field] if a in header), None)
            if found is None:
                raise SystemExit(f"{path}: the header lacks the column {field}")
            index[field] = found
        rows = []
        for line, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            rows.append(Row(line, *(_cell(cells, index[f]) for f in ("candidate_id", "sitting_id", "id_photo"))))
    return rows


def _cell(cells: list[str], i: int) -> str:
    return cells[i].strip() if i < len(cells) else ""


def _rejection(row: Row, reason: str, en: str, zh: str) -> dict[str, Any]:
    return {"line": row.line, "candidate_id": row.candidate_id, "sitting_id": row.sitting_id, "photo": row.photo,
            "reason": reason, "message_en": en, "message_zh": zh}


def enrol_command(args: argparse.Namespace) -> dict[str, Any]:
    try:
        return asyncio.run(enrol(args))
    except grpc.aio.AioRpcError as exc:
        raise _rpc_error(exc) from exc


async def enrol(args: argparse.Namespace) -> dict[str, Any]:
    """The command's body, awaitable in a running event loop (tests, other tools)."""
    rows = read_rows(args.csv)
    root: Path = args.photos_root
    totals = {"enrolled": 0, "unchanged": 0, "refused": 0, "errors": 0}
    rejected: list[dict[str, Any]] = []
    sendable: list[Row] = []
    for row in rows:
        if not row.photo or not (root / row.photo).is_file():
            rejected.append(_rejection(row, "PHOTO_NOT_FOUND", f"no file {row.photo!r} under {root}",
                                       "找不到证件照文件"))
        else:
            sendable.append(row)
    by_line = {r.line: r for r in sendable}

    async def requests(slots: asyncio.Semaphore) -> AsyncIterator[pb.BulkEnrolRequest]:
        for row in sendable:
            await slots.acquire()
            yield pb.BulkEnrolRequest(client_index=row.line, request=pb.EnrolCandidateRequest(
                sitting_id=row.sitting_id, candidate_id=row.candidate_id, id_photo=(root / row.photo).read_bytes(),
                replace_existing=args.replace, keep_photo=args.keep_photo))

    def record(result: pb.BulkEnrolResult) -> None:
        row = by_line[result.client_index]
        if result.WhichOneof("outcome") == "error":
            d = result.error.detail
            totals["errors"] += 1
            rejected.append(_rejection(row, d.reason or result.error.code, d.message_en, d.message_zh))
        elif result.response.enrolled:
            totals["unchanged" if result.response.unchanged else "enrolled"] += 1
        else:
            totals["refused"] += 1
            issues = result.response.quality.issues
            rejected.append(_rejection(
                row, ",".join(pb.QualityIssueCode.Name(i.code).removeprefix("QUALITY_ISSUE_CODE_") for i in issues),
                "; ".join(i.message.en for i in issues), "；".join(i.message.zh for i in issues)))

    async def run() -> None:
        target = args.target or f"127.0.0.1:{port_base() + SERVICES['auth-face'][3]}"
        async with grpc.aio.insecure_channel(target) as channel:
            stub = auth_face_pb2_grpc.AuthFaceStub(channel)
            slots = asyncio.Semaphore(max(1, args.concurrency))
            md = (("authorization", f"Bearer {_staff_token(args)}"),)
            with tqdm(total=len(sendable), unit="photo", disable=args.no_progress or args.json, file=sys.stderr,
                      desc="enrolling") as bar:
                async for result in stub.BulkEnrol(requests(slots), metadata=md):
                    slots.release()
                    record(result)
                    bar.update(1)

    if sendable:
        await run()
    rejected.sort(key=lambda r: r["line"])
    if args.report:
        with args.report.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, REPORT_COLUMNS)
            writer.writeheader()
            writer.writerows(rejected)
    lines = [f"{totals['enrolled']} enrolled, {totals['unchanged']} unchanged, {len(rejected)} rejected "
             f"({totals['refused']} refused by the quality gates)"]
    lines += [f"  line {r['line']}: {r['candidate_id'] or '-'}: {r['reason']} ({r['message_en']})"
              for r in rejected[:50]]
    if len(rejected) > 50:
        lines.append(f"  ... {len(rejected) - 50} more" + (f" in {args.report}" if args.report else ""))
    return {**totals, "rows": len(rows), "rejected": len(rejected), "rejections": rejected,
            "text": "\n".join(lines), "exit_code": 0}

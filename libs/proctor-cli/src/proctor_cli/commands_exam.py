"""``proctor token``, ``proctor sitting create`` and ``proctor import-candidates``."""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import sys
from pathlib import Path
from typing import Any

import grpc
from tqdm import tqdm

from proctor.exam.v1 import exam_session_pb2 as pb
from proctor.exam.v1 import exam_session_pb2_grpc
from proctor_cli import sitting_spec
from proctor_cli.local import SERVICES, port_base
from proctor_runtime.devinfra import InfraSettings
from proctor_runtime.devinfra.keys import keyring
from proctor_runtime.tokens import Role, TokenSigner

CSV_COLUMNS = {"candidate_id": ("candidate_id", "id", "考生编号"), "name": ("name", "姓名"),
               "id_photo": ("id_photo", "id_photo_path", "photo", "证件照"),
               "sitting_id": ("sitting_id", "sitting", "场次"), "room_id": ("room_id", "room", "考场")}


def register(sub: Any) -> None:
    token = sub.add_parser("token", help="issue a staff, proctor or service token (admin key)")
    token.add_argument("action", choices=["issue"])
    token.add_argument("--role", required=True, choices=[r.value for r in Role if r not in (Role.CANDIDATE,
                                                                                            Role.PHONE)])
    token.add_argument("--sub", required=True, help="who: a staff or proctor id, or a service name")
    token.add_argument("--sitting", default="", help="sitting scope (proctors)")
    token.add_argument("--rooms", default="", help="comma-separated room scope (proctors)")
    token.add_argument("--ttl", type=int, default=8 * 3600, help="seconds")
    token.add_argument("--json", action="store_true")
    token.set_defaults(handler=token_command)

    sitting = sub.add_parser("sitting", help="create or show a sitting from a YAML/JSON spec")
    sitting.add_argument("action", choices=["create", "show"])
    sitting.add_argument("spec_or_id", help="spec file (create) or sitting id (show)")
    _target_args(sitting)
    sitting.set_defaults(handler=sitting_command)

    imp = sub.add_parser("import-candidates", help="bulk import the approved candidate list (CSV)")
    imp.add_argument("csv", type=Path, help="columns: candidate_id,name,id_photo,sitting_id,room_id")
    imp.add_argument("--batch", type=int, default=2000)
    imp.add_argument("--dry-run", action="store_true")
    imp.add_argument("--report", type=Path, help="write the rejected rows (line, id, reason) as CSV")
    imp.add_argument("--no-progress", action="store_true")
    _target_args(imp)
    imp.set_defaults(handler=import_command)


def _target_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", default="", help="exam-session host:port (default: the local one)")
    parser.add_argument("--token", default="", help="staff token (default: $PROCTOR_TOKEN, or a local "
                        "dev token from the dev keyring)")
    parser.add_argument("--json", action="store_true")


def _admin_signer() -> TokenSigner:
    key = os.environ.get("PROCTOR_ADMIN_SIGNING_KEY", "")
    return TokenSigner(key or keyring(InfraSettings()).signing["admin"])


def _staff_token(args: argparse.Namespace) -> str:
    return args.token or os.environ.get("PROCTOR_TOKEN", "") or _admin_signer().issue(
        sub="proctor-cli", role=Role.STAFF, ttl_s=3600)[0]


def _target(args: argparse.Namespace) -> str:
    return args.target or f"127.0.0.1:{port_base() + SERVICES['exam-session'][3]}"


def token_command(args: argparse.Namespace) -> dict[str, Any]:
    rooms = tuple(r.strip() for r in args.rooms.split(",") if r.strip())
    token, claims = _admin_signer().issue(sub=args.sub, role=Role(args.role), ttl_s=args.ttl,
                                          sitting_id=args.sitting, rooms=rooms)
    return {"token": token, "role": claims.role.value, "sub": claims.sub, "sitting_id": claims.sitting_id,
            "rooms": list(claims.rooms), "expires_at": claims.exp, "text": token}


def _rpc_error(exc: grpc.aio.AioRpcError) -> SystemExit:
    return SystemExit(f"{exc.code().name}: {exc.details()}")


def sitting_command(args: argparse.Namespace) -> dict[str, Any]:
    async def run() -> pb.Sitting:
        async with grpc.aio.insecure_channel(_target(args)) as channel:
            stub = exam_session_pb2_grpc.ExamSessionStub(channel)
            md = (("authorization", f"Bearer {_staff_token(args)}"),)
            if args.action == "create":
                spec = sitting_spec.to_proto(sitting_spec.load(Path(args.spec_or_id)))
                return await stub.CreateSitting(pb.CreateSittingRequest(sitting=spec), metadata=md)
            return await stub.GetSitting(pb.GetSittingRequest(sitting_id=args.spec_or_id), metadata=md)

    try:
        sitting = asyncio.run(run())
    except sitting_spec.SpecError as exc:
        raise SystemExit(f"spec error: {exc}") from exc
    except grpc.aio.AioRpcError as exc:
        raise _rpc_error(exc) from exc
    t = sitting.timeline
    times = {name: getattr(t, name).ToJsonString() for name in
             ("login_opens", "waiting_room_opens", "start", "last_entry", "end", "upload_deadline")}
    return {"sitting_id": sitting.sitting_id, "name": sitting.name, "question_count": sitting.question_count,
            "timeline": times, "text": f"sitting {sitting.sitting_id}: {sitting.question_count} questions, "
            + ", ".join(f"{k} {v}" for k, v in times.items())}


def read_candidates(path: Path) -> tuple[list[pb.CandidateRow], list[dict[str, Any]]]:
    """Parse the CSV; rows that cannot even be read are rejected here with their line."""
    rows: list[pb.CandidateRow] = []
    rejected: list[dict[str, Any]] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [h.strip().lower() for h in next(reader, [])]
        index: dict[str, int] = {}
        for field, aliases in CSV_COLUMNS.items():
            for alias in aliases:
                if alias in header:
                    index[field] = header.index(alias)
                    break
        missing = [f for f in ("candidate_id", "name", "sitting_id", "room_id") if f not in index]
        if missing:
            raise SystemExit(f"{path}: the header lacks the column(s) {', '.join(missing)}")
        for line, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(cells) < len(header):
                rejected.append({"line": line, "candidate_id": cells[0] if cells else "",
                                 "reason": "MALFORMED_ROW", "message_en": f"{len(cells)} cells, expected "
                                 f"{len(header)}", "message_zh": "该行列数不正确"})
                continue
            rows.append(pb.CandidateRow(
                line=line, candidate_id=cells[index["candidate_id"]].strip(), name=cells[index["name"]].strip(),
                id_photo_ref=cells[index["id_photo"]].strip() if "id_photo" in index else "",
                sitting_id=cells[index["sitting_id"]].strip(), room_id=cells[index["room_id"]].strip()))
    return rows, rejected


def import_command(args: argparse.Namespace) -> dict[str, Any]:
    rows, rejected = read_candidates(args.csv)
    totals = {"created": 0, "updated": 0, "unchanged": 0}

    async def run() -> None:
        async with grpc.aio.insecure_channel(_target(args)) as channel:
            stub = exam_session_pb2_grpc.ExamSessionStub(channel)
            md = (("authorization", f"Bearer {_staff_token(args)}"),)
            with tqdm(total=len(rows), unit="row", disable=args.no_progress or args.json,
                      file=sys.stderr, desc="importing") as bar:
                for start in range(0, len(rows), args.batch):
                    batch = rows[start:start + args.batch]
                    result = await stub.ImportCandidates(
                        pb.ImportCandidatesRequest(rows=batch, dry_run=args.dry_run), metadata=md, timeout=120)
                    for key in totals:
                        totals[key] += getattr(result, key)
                    rejected.extend({"line": r.line, "candidate_id": r.candidate_id, "reason": r.reason,
                                     "message_en": r.message.en, "message_zh": r.message.zh}
                                    for r in result.rejections)
                    bar.update(len(batch))

    try:
        asyncio.run(run())
    except grpc.aio.AioRpcError as exc:
        raise _rpc_error(exc) from exc
    rejected.sort(key=lambda r: r["line"])
    if args.report:
        with args.report.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, ["line", "candidate_id", "reason", "message_en", "message_zh"])
            writer.writeheader()
            writer.writerows(rejected)
    lines = [f"{totals['created']} created, {totals['updated']} updated, {totals['unchanged']} unchanged, "
             f"{len(rejected)} rejected" + (" (dry run)" if args.dry_run else "")]
    lines += [f"  line {r['line']}: {r['candidate_id'] or '-'}: {r['reason']} ({r['message_en']})"
              for r in rejected[:50]]
    if len(rejected) > 50:
        lines.append(f"  ... {len(rejected) - 50} more" + (f" in {args.report}" if args.report else ""))
    return {**totals, "rejected": len(rejected), "rejections": rejected, "dry_run": args.dry_run,
            "text": "\n".join(lines), "exit_code": 0}

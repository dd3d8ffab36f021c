"""``proctor bench exam-session-scale``: one sitting with 1,000,000 candidates.

Imports N candidates through ImportCandidates (5,000 per call, 2,000 rooms), then times the calls
whose cost could grow with the sitting: a candidate's state, a room page of the proctor grid,
a candidate's login -> enter -> first save, and the per-room counts. Uses a throwaway database.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from proctor.exam.v1 import exam_session_pb2 as pb
from proctor.exam.v1 import exam_session_pb2_grpc
from proctor_cli.bench.exam_session import _sitting
from proctor_cli.local import LocalStack
from proctor_runtime.devinfra import InfraSettings, PostgresCluster
from proctor_runtime.devinfra.keys import keyring
from proctor_runtime.tokens import Role, TokenSigner


async def _timed(call: Callable[[int], Awaitable[Any]], n: int) -> dict[str, float]:
    samples = []
    for i in range(n):
        started = time.perf_counter()
        await call(i)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 2), "p99_ms": round(samples[max(0, int(n * 0.99) - 1)], 2),
            "samples": n}


async def run(candidates: int = 1_000_000) -> dict[str, Any]:
    infra = InfraSettings()
    database = f"proctor_scale_{uuid.uuid4().hex[:8]}"
    stack = LocalStack(infra, extra_env={"LOG_LEVEL": "WARNING"}, databases={"exam-session": database})
    try:
        service = await stack.start("exam-session")
        async with grpc.aio.insecure_channel(service.target) as channel:
            result = await _drive(exam_session_pb2_grpc.ExamSessionStub(channel), infra, candidates)
        result["database_size"] = PostgresCluster(infra).psql(
            f"SELECT pg_size_pretty(pg_database_size('{database}'))").strip()
        return result
    finally:
        await stack.stop()
        PostgresCluster(infra).psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def _drive(stub: exam_session_pb2_grpc.ExamSessionStub, infra: InfraSettings, n: int) -> dict[str, Any]:
    keys = keyring(infra)
    admin, auth = TokenSigner(keys.signing["admin"]), TokenSigner(keys.signing["auth-face"])
    staff = (("authorization", f"Bearer {admin.issue(sub='bench', role=Role.STAFF, ttl_s=7200)[0]}"),)
    sitting_id = f"scale-{uuid.uuid4().hex[:6]}"
    spec = _sitting(sitting_id, 20, 3600)
    spec.policy.require_phone = False
    await stub.CreateSitting(pb.CreateSittingRequest(sitting=spec), metadata=staff)
    started = time.perf_counter()
    for first in range(0, n, 5000):
        rows = [pb.CandidateRow(line=i, candidate_id=f"c{i:07d}", name=f"n{i}", sitting_id=sitting_id,
                                room_id=f"room-{i % 2000}") for i in range(first, min(n, first + 5000))]
        await stub.ImportCandidates(pb.ImportCandidatesRequest(rows=rows), metadata=staff, timeout=300)
    import_s = time.perf_counter() - started

    async def state(i: int) -> None:
        await stub.GetCandidateState(pb.GetCandidateStateRequest(
            sitting_id=sitting_id, candidate_id=f"c{(i * 4999) % n:07d}"), metadata=staff)

    async def room_page(i: int) -> None:
        await stub.ListCandidates(pb.ListCandidatesRequest(sitting_id=sitting_id, room_ids=[f"room-{i % 2000}"],
                                                           page_size=200), metadata=staff)

    async def first_steps(i: int) -> None:
        cid = f"c{(i * 7919) % n:07d}"
        token = auth.issue(sub=cid, role=Role.CANDIDATE, ttl_s=3600, sitting_id=sitting_id, candidate_id=cid,
                           device_id=f"desk-{cid}")[0]
        md = (("authorization", f"Bearer {token}"),)
        await stub.Login(pb.LoginRequest(sitting_id=sitting_id, candidate_id=cid, face_login_token=token))
        await stub.Enter(pb.EnterRequest(sitting_id=sitting_id, candidate_id=cid), metadata=md)
        await stub.SaveAnswer(pb.SaveAnswerRequest(sitting_id=sitting_id, candidate_id=cid, question_id="q0",
                                                   answer=pb.AnswerPayload(single_choice="A"),
                                                   client_request_id="r0"), metadata=md)

    async def rooms(_: int) -> None:
        await stub.ListRooms(pb.ListRoomsRequest(sitting_id=sitting_id), metadata=staff)

    return {"benchmark": "exam-session-scale", "candidates": n, "rooms": 2000,
            "import_s": round(import_s, 1), "import_rows_per_s": round(n / import_s),
            "get_candidate_state": await _timed(state, 200),
            "list_candidates_room_page": await _timed(room_page, 50),
            "login_enter_first_save": await _timed(first_steps, 100),
            "list_rooms_all": await _timed(rooms, 5)}

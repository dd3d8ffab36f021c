"""``proctor bench exam-session``: N simulated candidates through the whole flow against the real
service process, PostgreSQL and Kafka.

Each candidate: face-login token exchange -> bind code -> phone binding -> enter -> Q answers, each
saved then advanced (the last one only saved) -> finish at the end. The service runs as its own
process (``proctor serve`` equivalent); CPU is read from /proc for the service, PostgreSQL and Kafka.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc

from proctor.common.v1 import common_pb2
from proctor.exam.v1 import exam_session_pb2 as pb
from proctor.exam.v1 import exam_session_pb2_grpc
from proctor_cli.bench.common import bearer, postgres_cpu, proc_cpu, scraped_counter
from proctor_cli.local import LocalStack
from proctor_runtime.devinfra import InfraSettings, KafkaBroker, PostgresCluster
from proctor_runtime.devinfra.keys import keyring
from proctor_runtime.events import ts
from proctor_runtime.tokens import Role, TokenSigner


@dataclass
class Stats:
    save_ms: list[float] = field(default_factory=list)
    transitions: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, exc: grpc.aio.AioRpcError, step: str) -> None:
        key = f"{step}:{exc.code().name}"
        self.errors[key] = self.errors.get(key, 0) + 1


def _sitting(sitting_id: str, questions: int, answering_s: float) -> pb.Sitting:
    now = datetime.now(UTC)
    start = now - timedelta(seconds=30)
    end = now + timedelta(seconds=answering_s)
    s = pb.Sitting(sitting_id=sitting_id, name="benchmark", kind=common_pb2.SITTING_KIND_FORMAL)
    s.timeline.CopyFrom(pb.Timeline(
        login_opens=ts(now - timedelta(minutes=5)), waiting_room_opens=ts(now - timedelta(minutes=5)),
        start=ts(start), last_entry=ts(end - timedelta(seconds=1)), end=ts(end),
        upload_deadline=ts(end + timedelta(hours=1))))
    for i in range(questions):
        s.questions.add(question_id=f"q{i}", type=pb.QUESTION_TYPE_SINGLE_CHOICE, option_ids=list("ABCD"))
    s.policy.require_room_scan = False
    # no heartbeats are simulated: keep the offline detector quiet during the run
    s.policy.abandon_grace.FromTimedelta(timedelta(hours=2))
    return s


async def _candidate(stub: exam_session_pb2_grpc.ExamSessionStub, auth: TokenSigner, sitting_id: str,
                     cid: str, questions: int, stats: Stats) -> bool:
    token = auth.issue(sub=cid, role=Role.CANDIDATE, ttl_s=4 * 3600, sitting_id=sitting_id, candidate_id=cid,
                       device_id=f"desk-{cid}")[0]
    md = bearer(token)
    step = "login"
    try:
        await stub.Login(pb.LoginRequest(sitting_id=sitting_id, candidate_id=cid, face_login_token=token))
        step = "bind"
        code = await stub.IssueBindCode(pb.IssueBindCodeRequest(sitting_id=sitting_id, candidate_id=cid),
                                        metadata=md)
        await stub.BindPhone(pb.BindPhoneRequest(bind_code=code.bind_code, device=common_pb2.DeviceInfo(
            kind=common_pb2.DEVICE_KIND_PHONE, device_id=f"phone-{cid}")))
        step = "enter"
        await stub.Enter(pb.EnterRequest(sitting_id=sitting_id, candidate_id=cid), metadata=md)
        stats.transitions += 4  # logged in, phone bound (-> room scanned), waiting, in exam
        for i in range(questions):
            step = "save"
            started = time.perf_counter()
            await stub.SaveAnswer(pb.SaveAnswerRequest(
                sitting_id=sitting_id, candidate_id=cid, question_id=f"q{i}",
                answer=pb.AnswerPayload(single_choice="ABCD"[i % 4]), client_request_id=f"{cid}-{i}"),
                metadata=md)
            stats.save_ms.append((time.perf_counter() - started) * 1000)
            if i + 1 < questions:
                step = "advance"
                await stub.Advance(pb.AdvanceRequest(sitting_id=sitting_id, candidate_id=cid,
                                                     from_question_id=f"q{i}", client_request_id=f"{cid}-a{i}"),
                                   metadata=md)
    except grpc.aio.AioRpcError as exc:
        stats.error(exc, step)
        return False
    return True


async def _finish(stub: exam_session_pb2_grpc.ExamSessionStub, auth: TokenSigner, sitting_id: str, cid: str,
                  stats: Stats) -> None:
    token = auth.issue(sub=cid, role=Role.CANDIDATE, ttl_s=3600, sitting_id=sitting_id, candidate_id=cid,
                       device_id=f"desk-{cid}")[0]
    try:
        await stub.Finish(pb.FinishRequest(sitting_id=sitting_id, candidate_id=cid), metadata=bearer(token))
        stats.transitions += 1
    except grpc.aio.AioRpcError as exc:
        stats.error(exc, "finish")


async def _bounded(limit: int, coros: list[Any]) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def run(coro: Any) -> Any:
        async with semaphore:
            return await coro

    return await asyncio.gather(*(run(c) for c in coros))


async def run(candidates: int = 10_000, concurrency: int = 56, questions: int = 20,
              expected_saves_per_s: float = 1000.0, replicas: int = 2) -> dict[str, Any]:
    infra = InfraSettings()
    database = f"proctor_bench_{uuid.uuid4().hex[:8]}"
    # every simulated candidate binds from this one host: lift the per-address bind rate limit
    stack = LocalStack(infra, extra_env={"BIND_ATTEMPTS_PER_MINUTE": "100000000", "DB_POOL_MAX": "20",
                                         "LOG_LEVEL": "WARNING"}, databases={"exam-session": database})
    try:
        services = [await stack.start("exam-session", replica=r) for r in range(replicas)]
        result = await _drive(services, infra, candidates, concurrency, questions, expected_saves_per_s)
        result["replicas"] = replicas
        return result
    finally:
        await stack.stop()
        PostgresCluster(infra).psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def _drive(services: list[Any], infra: InfraSettings, candidates: int, concurrency: int,
                 questions: int, expected_saves_per_s: float) -> dict[str, Any]:
    keys = keyring(infra)
    admin, auth = TokenSigner(keys.signing["admin"]), TokenSigner(keys.signing["auth-face"])
    staff = bearer(admin.issue(sub="bench", role=Role.STAFF, ttl_s=3600)[0])
    # 4 connections, spread over the replicas (what a load balancer does)
    channels = [grpc.aio.insecure_channel(services[i % len(services)].target,
                                          options=[("grpc.use_local_subchannel_pool", 1)]) for i in range(4)]
    stubs = [exam_session_pb2_grpc.ExamSessionStub(c) for c in channels]
    sitting_id = f"bench-{uuid.uuid4().hex[:8]}"
    answering_s = 30 + candidates * questions * 2 / expected_saves_per_s
    await stubs[0].CreateSitting(pb.CreateSittingRequest(sitting=_sitting(sitting_id, questions, answering_s)),
                                 metadata=staff)
    ids = [f"c{i:07d}" for i in range(candidates)]
    for start in range(0, len(ids), 5000):
        batch = ids[start:start + 5000]
        await stubs[0].ImportCandidates(pb.ImportCandidatesRequest(rows=[
            pb.CandidateRow(line=n, candidate_id=cid, name=cid, sitting_id=sitting_id, room_id=f"room-{n % 100}")
            for n, cid in enumerate(batch)]), metadata=staff)
    stats = Stats()
    kafka_pid = KafkaBroker(infra).pid() or 0
    cpu0 = (sum(s.cpu_seconds() for s in services), postgres_cpu(), proc_cpu(kafka_pid), proc_cpu(os.getpid()))
    started = time.perf_counter()
    done = await _bounded(concurrency, [_candidate(stubs[i % 4], auth, sitting_id, cid, questions, stats)
                                        for i, cid in enumerate(ids)])
    answering = time.perf_counter() - started
    end = datetime.now(UTC) + timedelta(seconds=0)
    spec = await stubs[0].GetSitting(pb.GetSittingRequest(sitting_id=sitting_id), metadata=staff)
    wait = (spec.timeline.end.ToDatetime(UTC) - end).total_seconds()
    if wait > 0:
        await asyncio.sleep(wait + 0.5)
    finish_started = time.perf_counter()
    await _bounded(concurrency, [_finish(stubs[i % 4], auth, sitting_id, cid, stats)
                                 for i, cid in enumerate(ids) if done[i]])
    finishing = time.perf_counter() - finish_started
    cpu1 = (sum(s.cpu_seconds() for s in services), postgres_cpu(), proc_cpu(kafka_pid), proc_cpu(os.getpid()))
    paths = {path: sum(scraped_counter(s.metrics_port, "proctor_exam_answer_calls", path=path) for s in services)
             for path in ("batched", "duplicate", "stale", "general")}
    for channel in channels:
        await channel.close()
    saves = sorted(stats.save_ms)
    busy = answering + finishing
    cpu = [b - a for a, b in zip(cpu0, cpu1, strict=True)]
    return {
        "benchmark": "exam-session",
        "candidates": candidates,
        "questions": questions,
        "concurrency": concurrency,
        "completed_candidates": sum(done),
        "answer_saves": len(saves),
        "answer_saves_per_s": round(len(saves) / answering, 1),
        "requests_per_s_answering": round((len(saves) * 2 - sum(done)) / answering, 1),
        "answer_save_p50_ms": round(statistics.median(saves), 2) if saves else None,
        "answer_save_p99_ms": round(saves[int(len(saves) * 0.99) - 1], 2) if saves else None,
        "transitions": stats.transitions,
        "transitions_per_s": round(stats.transitions / busy, 1),
        "answering_wall_s": round(answering, 1),
        "finish_wall_s": round(finishing, 1),
        # the system's cost (service, PostgreSQL, Kafka); the load generator's own CPU is reported beside it
        "cpu_seconds_per_candidate": round(sum(cpu[:3]) / candidates, 4),
        "cpu_seconds_per_candidate_by_process": {"exam_session": round(cpu[0] / candidates, 4),
                                                 "postgres": round(cpu[1] / candidates, 4),
                                                 "kafka": round(cpu[2] / candidates, 4),
                                                 "load_generator": round(cpu[3] / candidates, 4)},
        # how the SaveAnswer/Advance calls were written (services/exam-session/README.md, the hot path)
        "answer_calls_by_path": {k: int(v) for k, v in paths.items()},
        "errors": sum(stats.errors.values()),
        "errors_by_step": stats.errors,
    }

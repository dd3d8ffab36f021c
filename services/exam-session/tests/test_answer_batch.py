"""The answering hot path (answer_batch.py): saves and advances decided from a replica's memory and
written in batches must answer exactly as the general path does, and fall back to it whenever the
memory is out of date (another replica, the clock, a locked row)."""

import asyncio
from datetime import UTC, datetime, timedelta

import grpc
import psycopg
import pytest
from exam_harness import START, refused, setup_sitting, walk_to_waiting
from prometheus_client import REGISTRY

from exam_session.answer_batch import _bools, _byteas, _ints, _texts, _times
from exam_session.metrics import ANSWER_CALLS
from proctor.exam.v1 import exam_session_pb2 as pb

pytestmark = pytest.mark.infra
FP = grpc.StatusCode.FAILED_PRECONDITION


def calls(path: str) -> float:
    return ANSWER_CALLS.labels(path)._value.get()


def batches() -> tuple[float, float]:
    """(statements, ops) of the batched answer writes so far."""
    return (REGISTRY.get_sample_value("proctor_exam_answer_batch_size_count") or 0.0,
            REGISTRY.get_sample_value("proctor_exam_answer_batch_size_sum") or 0.0)


def save(h, cid: str, qid: str, option: str, rid: str) -> pb.SaveAnswerRequest:
    return pb.SaveAnswerRequest(sitting_id=h.sitting_id, candidate_id=cid, question_id=qid,
                                answer=pb.AnswerPayload(single_choice=option), client_request_id=rid)


def advance(h, cid: str, qid: str, rid: str, final: str = "") -> pb.AdvanceRequest:
    req = pb.AdvanceRequest(sitting_id=h.sitting_id, candidate_id=cid, from_question_id=qid, client_request_id=rid)
    if final:
        req.final_answer.single_choice = final
    return req


async def in_exam(h, candidates: int = 1) -> dict[str, tuple[tuple[str, str], ...]]:
    await setup_sitting(h, candidates=candidates)
    h.clock.move_to(START - timedelta(minutes=20))
    mds = {f"c{i}": await walk_to_waiting(h, f"c{i}") for i in range(candidates)}
    h.clock.move_to(START)
    for cid, md in mds.items():
        await h.stub.Enter(pb.EnterRequest(sitting_id=h.sitting_id, candidate_id=cid), metadata=md)
    return mds


async def sheet(h, cid: str) -> list[tuple[str, str, int, bool]]:
    got = await h.stub.ExportAnswerSheet(pb.ExportAnswerSheetRequest(sitting_id=h.sitting_id, candidate_id=cid,
                                                                     allow_partial=True), metadata=h.staff())
    return [(a.question_id, a.answer.single_choice, a.revision, a.HasField("locked_at")) for a in got.answers]


async def test_remembered_candidates_are_written_in_batches_with_the_general_paths_answers(harness):
    h = harness
    md = (await in_exam(h))["c0"]
    batched, general = calls("batched"), calls("general")
    first = await h.stub.SaveAnswer(save(h, "c0", "q0", "A", "s1"), metadata=md)  # nothing remembered yet
    assert calls("general") == general + 1 and first.revision == 1
    second = await h.stub.SaveAnswer(save(h, "c0", "q0", "B", "s2"), metadata=md)
    moved = await h.stub.Advance(advance(h, "c0", "q0", "a0"), metadata=md)
    final = await h.stub.Advance(advance(h, "c0", "q1", "a1", final="C"), metadata=md)  # saved by the advance
    third = await h.stub.SaveAnswer(save(h, "c0", "q2", "D", "s3"), metadata=md)
    assert calls("batched") == batched + 4
    assert (second.revision, second.duplicate) == (2, False)
    assert moved.locked_question_id == "q0" and moved.current.index == 1 and not moved.duplicate
    assert not moved.current.HasField("saved_answer")
    assert final.locked_question_id == "q1" and final.current.index == 2 and third.revision == 1
    assert await sheet(h, "c0") == [("q0", "B", 2, True), ("q1", "C", 1, True), ("q2", "D", 1, False),
                                    ("q3", "", 0, False), ("q4", "", 0, False)]

    # a repeated request is replayed from the stored response, byte for byte, and changes nothing
    again = await h.stub.Advance(advance(h, "c0", "q0", "a0"), metadata=md)
    replay = await h.stub.SaveAnswer(save(h, "c0", "q2", "D", "s3"), metadata=md)
    assert (replay.revision, replay.duplicate, replay.saved_at) == (1, True, third.saved_at)
    assert again.duplicate and again.current.index == 1  # the response of that first advance
    # an advance repeated with a new request id: the current question with its saved answer
    repeated = await h.stub.Advance(advance(h, "c0", "q1", "a9"), metadata=md)
    assert repeated.duplicate and repeated.current.index == 2 and repeated.current.saved_answer.single_choice == "D"
    # a request id used for another kind of call is refused by the batched path too
    await refused(h.stub.Advance(advance(h, "c0", "q2", "s3"), metadata=md), grpc.StatusCode.INVALID_ARGUMENT,
                  "REQUEST_ID_REUSED")
    # rules checked on the memory: a locked question, a future one, a bad option
    await refused(h.stub.SaveAnswer(save(h, "c0", "q1", "A", "s4"), metadata=md), FP, "QUESTION_LOCKED")
    await refused(h.stub.SaveAnswer(save(h, "c0", "q4", "A", "s5"), metadata=md), FP, "QUESTION_NOT_CURRENT")
    await refused(h.stub.SaveAnswer(save(h, "c0", "q2", "Z", "s6"), metadata=md),
                  grpc.StatusCode.INVALID_ARGUMENT, "UNKNOWN_OPTION")
    assert await sheet(h, "c0") == [("q0", "B", 2, True), ("q1", "C", 1, True), ("q2", "D", 1, False),
                                    ("q3", "", 0, False), ("q4", "", 0, False)]


async def test_another_replicas_writes_make_the_memory_stale_and_the_general_path_decides(harness,
                                                                                           second_replica):
    a, b = harness, second_replica
    md = (await in_exam(a))["c0"]
    await a.stub.SaveAnswer(save(a, "c0", "q0", "A", "s1"), metadata=md)  # replica a remembers c0 at q0
    await b.stub.Advance(advance(b, "c0", "q0", "a0"), metadata=md)  # ... and b moves c0 on
    stale = calls("stale")
    await refused(a.stub.SaveAnswer(save(a, "c0", "q0", "B", "s2"), metadata=md), FP, "QUESTION_LOCKED")
    assert calls("stale") == stale + 1
    one = await a.stub.SaveAnswer(save(a, "c0", "q1", "A", "s3"), metadata=md)  # a re-read c0 above
    two = await b.stub.SaveAnswer(save(b, "c0", "q1", "B", "s4"), metadata=md)  # b remembers an older c0
    three = await a.stub.SaveAnswer(save(a, "c0", "q1", "C", "s5"), metadata=md)  # a's revision is outdated
    assert (one.revision, two.revision, three.revision) == (1, 2, 3)
    assert calls("stale") == stale + 3
    assert await sheet(a, "c0") == [("q0", "A", 1, True), ("q1", "C", 3, False), ("q2", "", 0, False),
                                    ("q3", "", 0, False), ("q4", "", 0, False)]


async def test_the_end_of_the_exam_holds_for_remembered_candidates(harness):
    h = harness
    md = (await in_exam(h))["c0"]
    await h.stub.SaveAnswer(save(h, "c0", "q0", "A", "s1"), metadata=md)
    h.clock.move_to(START + timedelta(minutes=90))
    await refused(h.stub.SaveAnswer(save(h, "c0", "q0", "B", "s2"), metadata=md), FP, "EXAM_ENDED")
    await h.host.sweeper.sweep_once()  # FINISHED
    h.clock.move_to(START + timedelta(minutes=89))  # even a client whose clock runs behind
    await refused(h.stub.SaveAnswer(save(h, "c0", "q0", "B", "s3"), metadata=md), FP, "EXAM_ENDED")
    assert await sheet(h, "c0") == [("q0", "A", 1, False), ("q1", "", 0, False), ("q2", "", 0, False),
                                    ("q3", "", 0, False), ("q4", "", 0, False)]


async def test_a_candidate_row_locked_elsewhere_does_not_hold_up_the_batch(harness, pg_dsn):
    h = harness
    mds = await in_exam(h, candidates=2)
    for cid, md in mds.items():
        await h.stub.SaveAnswer(save(h, cid, "q0", "A", f"{cid}-1"), metadata=md)
    async with await psycopg.AsyncConnection.connect(pg_dsn) as conn:
        await conn.execute("SELECT 1 FROM candidates WHERE sitting_id = %s AND candidate_id = 'c0' FOR UPDATE",
                           (h.sitting_id,))
        held = asyncio.ensure_future(h.stub.SaveAnswer(save(h, "c0", "q0", "B", "c0-2"), metadata=mds["c0"]))
        async with asyncio.timeout(5):
            other = await h.stub.SaveAnswer(save(h, "c1", "q0", "B", "c1-2"), metadata=mds["c1"])
        assert other.revision == 2
        await asyncio.sleep(0.2)
        assert not held.done()  # waits for the row on the general path
        await conn.rollback()
    async with asyncio.timeout(5):
        assert (await held).revision == 2


async def test_concurrent_candidates_share_statements(harness):
    h = harness
    mds = await in_exam(h, candidates=12)
    for cid, md in mds.items():
        await h.stub.SaveAnswer(save(h, cid, "q0", "A", f"{cid}-1"), metadata=md)
    count, total = batches()
    for round_ in range(3):
        got = await asyncio.gather(*(h.stub.SaveAnswer(save(h, cid, "q0", "B", f"{cid}-r{round_}"), metadata=md)
                                     for cid, md in mds.items()))
        assert [r.revision for r in got] == [2 + round_] * 12
    count_after, total_after = batches()
    assert total_after - total == 36
    assert count_after - count < 36  # some statements carried several candidates


async def test_the_batch_array_literals_round_trip_through_postgresql(pg_dsn):
    texts = ["", "plain", 'a "quoted" word', "back\\slash\\", "{braces},commas", "NULL", " spaced ", "考生-7"]
    blobs = [b"", b"\x00\xff\\\"{},", None, "答案".encode()]
    ints = [0, -1, None, 2**40]
    times = [datetime(2026, 11, 26, 13, 0, 0, 123456, tzinfo=UTC), None,
             datetime(2026, 11, 26, 21, 0, tzinfo=UTC).astimezone()]
    async with await psycopg.AsyncConnection.connect(pg_dsn) as conn:
        cur = await conn.execute("SELECT %s::text[], %s::bytea[], %s::bigint[], %s::bool[], %s::timestamptz[]",
                                 (_texts(texts), _byteas(blobs), _ints(ints), _bools([True, False]), _times(times)))
        assert await cur.fetchone() == (texts, blobs, ints, [True, False], times)
    with pytest.raises(ValueError):
        _times([datetime(2026, 11, 26)])

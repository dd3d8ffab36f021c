"""The proctor feed: the right proctor sees an incident at once, others never; resume delivers
exactly what was missed; duplicates and stale revisions from Kafka are applied once."""

import asyncio
import time

import grpc
from notify_harness import Stream

from proctor.common.v1 import common_pb2 as c
from proctor.events.v1 import incident_pb2
from proctor.notify.v1 import notify_pb2 as pb
from proctor_runtime.testing.helpers import refused


def is_incident(item, incident_id=None):
    return item.WhichOneof("item") == "incident" and (
        incident_id is None or item.incident.incident.incident.incident_id == incident_id)


async def snapshot(stream: Stream) -> list:
    return await stream.until(lambda i: i.WhichOneof("item") == "snapshot_complete")


async def test_incident_reaches_the_proctor_of_its_room_only(notify):
    await notify.register("c1", "R1")
    await notify.register("c2", "R2")
    mine = notify.feed(notify.proctor("R1"))
    other = notify.feed(notify.proctor("R2", sub="p2"))
    chief = notify.feed(notify.chief())
    assert (await snapshot(mine))[-1].snapshot_complete.candidates == 1  # c1 only: c2 is in R2
    assert (await snapshot(other))[-1].snapshot_complete.candidates == 1
    assert (await snapshot(chief))[-1].snapshot_complete.candidates == 2

    incident = notify.incident("c1")
    sent = time.monotonic()
    await notify.publish(incident)
    got = await mine.until(lambda i: is_incident(i, incident.incident_id))
    latency = time.monotonic() - sent
    view = got[-1].incident.incident
    assert got[-1].incident.kind == pb.INCIDENT_UPDATE_KIND_OPENED
    assert view.incident.room_id == "R1"  # filled from the roster
    assert view.status == c.INCIDENT_STATUS_NEW and view.revision == 1 and view.active
    assert got[-1].cursor and got[-1].sequence > 0
    assert latency < 1.0, f"delivered after {latency:.3f} s"
    await chief.until(lambda i: is_incident(i, incident.incident_id))
    leaked = [i for i in await other.quiet(1.5) if i.WhichOneof("item") == "incident"]
    assert leaked == []
    for s in (mine, other, chief):
        s.cancel()


async def test_an_incident_ahead_of_its_candidates_room_reaches_the_room_once_the_room_is_known(notify):
    """The detector and the session service publish on different topics: an incident can reach notify
    before the candidate's room. The chief proctor sees it at once; the room's proctor as soon as the
    roster knows the room, with the room in the incident itself (feed and listing)."""
    mine = notify.feed(notify.proctor("R1"))
    chief = notify.feed(notify.chief())
    await snapshot(mine)
    await snapshot(chief)
    incident = notify.incident("c9")
    await notify.publish(incident)
    early = await chief.until(lambda i: is_incident(i, incident.incident_id))
    assert early[-1].incident.incident.incident.room_id == ""

    await notify.register("c9", "R1")
    got = await mine.until(is_incident)  # the first incident the room's proctor sees is the placed one
    assert got[-1].incident.incident.incident.incident_id == incident.incident_id
    assert got[-1].incident.kind == pb.INCIDENT_UPDATE_KIND_UPDATED
    view = got[-1].incident.incident
    assert view.incident.room_id == "R1" and view.revision == 2 and view.active
    placed = await chief.until(lambda i: is_incident(i, incident.incident_id))
    assert placed[-1].incident.incident.incident.room_id == "R1"
    listed = await notify.stub.ListIncidents(pb.ListIncidentsRequest(sitting_id=notify.sitting_id, room_ids=["R1"]),
                                             metadata=notify.proctor("R1"))
    assert [(v.incident.incident_id, v.incident.room_id) for v in listed.incidents] == [(incident.incident_id, "R1")]
    detail = await notify.stub.GetIncident(pb.GetIncidentRequest(incident_id=incident.incident_id),
                                           metadata=notify.proctor("R1"))
    assert [(a.kind, a.revision) for a in detail.history] == [(pb.INCIDENT_ACTION_KIND_OPENED, 1),
                                                              (pb.INCIDENT_ACTION_KIND_UPDATED, 2)]
    assert detail.history[1].note.startswith("room R1")
    # the room is filled once: a later state change of the candidate adds nothing, and the detector's
    # next revision (still without a room) keeps it
    await notify.transition("c9", c.CANDIDATE_STATE_LOGGED_IN)
    await mine.until(lambda i: i.WhichOneof("item") == "candidate" and i.candidate.candidate.state == (
        c.CANDIDATE_STATE_LOGGED_IN))
    incident.end_time.CopyFrom(incident.detected_at)
    await notify.publish(incident, incident_pb2.INCIDENT_CHANGE_CLOSED)
    closed = await mine.until(is_incident)
    assert closed[-1].incident.kind == pb.INCIDENT_UPDATE_KIND_CLOSED
    assert closed[-1].incident.incident.incident.room_id == "R1" and closed[-1].incident.incident.revision == 3
    for s in (mine, chief):
        s.cancel()


async def test_resume_delivers_exactly_what_was_missed(notify):
    await notify.register("c1", "R1")
    md = notify.proctor("R1")
    first = notify.feed(md)
    await snapshot(first)
    before = [notify.incident("c1", summary=f"before {n}") for n in range(3)]
    for inc in before:
        await notify.publish(inc)
    await first.until(lambda i: is_incident(i, before[-1].incident_id))
    cursor = first.cursor
    first.cancel()

    missed = [notify.incident("c1", summary=f"missed {n}") for n in range(5)]
    for inc in missed:
        await notify.publish(inc)
    before[0].end_time.CopyFrom(before[0].detected_at)
    await notify.publish(before[0], incident_pb2.INCIDENT_CHANGE_CLOSED)  # an update while away
    await asyncio.sleep(1.0)

    resumed = notify.feed(md, resume_cursor=cursor)
    items = await resumed.until(lambda i: is_incident(i, before[0].incident_id))
    got = [i.incident.incident.incident.incident_id for i in items if is_incident(i)]
    assert got == [m.incident_id for m in missed] + [before[0].incident_id]
    seqs = [i.sequence for i in items]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert items[-1].incident.kind == pb.INCIDENT_UPDATE_KIND_CLOSED and not items[-1].incident.incident.active
    assert [i for i in await resumed.quiet(1.0) if is_incident(i)] == []  # nothing twice
    resumed.cancel()


async def test_redelivered_and_stale_events_apply_once(notify):
    await notify.register("c1", "R1")
    stream = notify.feed(notify.proctor("R1"), start=pb.FEED_START_NOW)
    incident = notify.incident("c1")
    await notify.publish(incident, revision=1)
    await notify.publish(incident, revision=1)  # Kafka redelivery
    incident.severity = c.SEVERITY_CRITICAL
    await notify.publish(incident, incident_pb2.INCIDENT_CHANGE_UPDATED, revision=3)
    incident.severity = c.SEVERITY_LOW
    await notify.publish(incident, incident_pb2.INCIDENT_CHANGE_UPDATED, revision=2)  # stale: older than 3
    items = [i for i in await stream.quiet(3.0) if is_incident(i)]
    assert [i.incident.kind for i in items] == [pb.INCIDENT_UPDATE_KIND_OPENED, pb.INCIDENT_UPDATE_KIND_UPDATED]
    assert items[-1].incident.incident.incident.severity == c.SEVERITY_CRITICAL
    assert items[-1].incident.incident.detection_revision == 3
    detail = await notify.stub.GetIncident(pb.GetIncidentRequest(incident_id=incident.incident_id),
                                           metadata=notify.staff())
    assert detail.view.incident.severity == c.SEVERITY_CRITICAL
    assert [a.kind for a in detail.history] == [pb.INCIDENT_ACTION_KIND_OPENED, pb.INCIDENT_ACTION_KIND_UPDATED]
    stream.cancel()


async def test_snapshot_filters_and_cursors(notify):
    await notify.register("c1", "R1")
    await notify.register("c2", "R1")
    low = notify.incident("c1", severity=c.SEVERITY_LOW)
    high = notify.incident("c2", severity=c.SEVERITY_HIGH)
    await notify.publish(low)
    await notify.publish(high)
    md = notify.proctor("R1")
    watcher = notify.feed(md, start=pb.FEED_START_NOW)
    await watcher.until(lambda i: is_incident(i, high.incident_id), timeout_s=20)
    watcher.cancel()

    snap = await snapshot(notify.feed(md, min_severity=c.SEVERITY_MEDIUM))
    kinds = [i.WhichOneof("item") for i in snap]
    assert kinds.count("candidate") == 2 and all(i.candidate.snapshot for i in snap if i.WhichOneof("item") == "candidate")
    incidents = [i.incident.incident.incident.incident_id for i in snap if is_incident(i)]
    assert incidents == [high.incident_id]  # the LOW one is filtered out
    done = snap[-1]
    assert done.snapshot_complete.incidents == 1 and done.cursor

    # the snapshot's cursor resumes after everything in it
    resumed = notify.feed(md, resume_cursor=done.cursor)
    assert [i for i in await resumed.quiet(1.0) if is_incident(i)] == []
    resumed.cancel()

    other_sitting = notify.feed(md, sitting_id="another", resume_cursor=done.cursor)
    with_scope = notify.proctor("R1", sitting_id="another")
    await refused(other_sitting.next(), grpc.StatusCode.PERMISSION_DENIED, "OUT_OF_SCOPE")
    await refused(notify.feed(with_scope, sitting_id="another", resume_cursor=done.cursor).next(),
                  grpc.StatusCode.INVALID_ARGUMENT, "CURSOR_INVALID")
    await refused(notify.feed(md, resume_cursor="not-a-cursor").next(), grpc.StatusCode.INVALID_ARGUMENT,
                  "CURSOR_INVALID")
    from notify import cursors
    future = cursors.encode(cursors.proctor_feed(notify.sitting_id), done.sequence + 1000)
    await refused(notify.feed(md, resume_cursor=future).next(), grpc.StatusCode.OUT_OF_RANGE, "CURSOR_FROM_FUTURE")


async def test_feed_refuses_bad_callers(notify):
    await notify.register("c1", "R1")
    await refused(notify.feed(notify.proctor("R1"), room_ids=["R2"]).next(), grpc.StatusCode.PERMISSION_DENIED,
                  "OUT_OF_SCOPE")
    await refused(notify.feed(notify.candidate("c1")).next(), grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")
    await refused(notify.feed((("authorization", "Bearer pt1.forged.token"),)).next(),
                  grpc.StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")
    expired = notify.admin.issue(sub="p1", role=__import__("proctor_runtime.tokens").tokens.Role.PROCTOR,
                                 ttl_s=1, now=time.time() - 3600, sitting_id=notify.sitting_id, rooms=("R1",))[0]
    await refused(notify.feed((("authorization", f"Bearer {expired}"),)).next(), grpc.StatusCode.UNAUTHENTICATED,
                  "TOKEN_EXPIRED")
    await refused(notify.feed(notify.staff(), sitting_id="never-heard-of").next(), grpc.StatusCode.NOT_FOUND,
                  "SITTING_NOT_FOUND")


async def test_a_full_buffer_drops_that_subscriber_only():
    """The hub never waits for a subscriber: one whose buffer is full is marked too slow and its
    stream task cancelled (it then ends with SUBSCRIBER_TOO_SLOW); the others keep receiving."""
    from notify.hub import Entry, FeedHub, Subscriber

    rows = [Entry(seq, object(), "R1") for seq in range(1, 51)]

    async def fetch(_feed, after, limit):
        return [r for r in rows if r.seq > after][:limit]

    async def head(_feed):
        return 0

    hub = FeedHub("unused", fetch, head, page=50)
    stuck_task = asyncio.create_task(asyncio.sleep(3600))
    stuck = Subscriber("s:x", capacity=10, rooms=frozenset({"R1"}), task=stuck_task)
    healthy = Subscriber("s:x", capacity=100, rooms=frozenset({"R1"}))
    elsewhere = Subscriber("s:x", capacity=1, rooms=frozenset({"R2"}))
    for sub in (stuck, healthy, elsewhere):
        await hub.register(sub)
    hub.changed("s:x")
    await hub._advance("s:x")
    assert [e.seq for e in await healthy.take(1.0)] == list(range(1, 51))
    assert stuck.too_slow and not healthy.too_slow and not elsewhere.too_slow
    assert await elsewhere.take(0.01) == []  # another room's subscriber is not even offered the rows
    await asyncio.sleep(0)
    assert stuck_task.cancelled()
    assert hub.position("s:x") == 50


async def test_cursors_older_than_the_retention_expire(notify):
    await notify.register("c1", "R1")
    md = notify.proctor("R1")
    first = notify.feed(md)
    await snapshot(first)
    old = [notify.incident("c1", summary=f"old {n}") for n in range(3)]
    for inc in old:
        await notify.publish(inc)
    items = await first.until(lambda i: is_incident(i, old[-1].incident_id))
    early_cursor = items[0].cursor  # the first incident's position
    first.cancel()
    from datetime import UTC, datetime, timedelta

    store = notify.host.logic.store
    assert await store.prune(datetime.now(UTC) + timedelta(seconds=1)) >= 3  # everything so far is "old"
    newer = notify.incident("c1", summary="after the prune")
    await notify.publish(newer)
    watcher = notify.feed(md, start=pb.FEED_START_NOW)
    await watcher.until(lambda i: is_incident(i, newer.incident_id))
    watcher.cancel()
    await refused(notify.feed(md, resume_cursor=early_cursor).next(), grpc.StatusCode.OUT_OF_RANGE, "CURSOR_EXPIRED")
    # the incident log is the record and is kept
    listed = await notify.stub.ListIncidents(pb.ListIncidentsRequest(sitting_id=notify.sitting_id), metadata=md)
    assert listed.total_size == 4
    # BEGINNING replays what is retained
    replay = await notify.feed(md, start=pb.FEED_START_BEGINNING).until(lambda i: is_incident(i, newer.incident_id))
    assert [i.incident.incident.incident.incident_id for i in replay if is_incident(i)] == [newer.incident_id]

"""Incident handling, help chat and candidate notices, with the refusals a bad caller gets."""

import asyncio

import grpc
from test_feed import is_incident

from proctor.common.v1 import common_pb2 as c
from proctor.events.v1 import media_pb2, messaging_pb2
from proctor.notify.v1 import notify_pb2 as pb
from proctor_runtime import topics
from proctor_runtime.events import meta
from proctor_runtime.testing.helpers import kafka_events, refused
from proctor_runtime.tokens import Role


async def opened(notify, candidate_id="c1", room="R1", **kw):
    await notify.register(candidate_id, room)
    stream = notify.feed(notify.proctor(room), start=pb.FEED_START_NOW)
    await stream.next(timeout_s=10, keepalives=True)
    incident = notify.incident(candidate_id, **kw)
    await notify.publish(incident)
    await stream.until(lambda i: is_incident(i, incident.incident_id))
    return incident, stream


async def test_acknowledge_resolve_escalate_with_revisions(notify):
    incident, stream = await opened(notify)
    md = notify.proctor("R1")
    iid = incident.incident_id
    view = await notify.stub.AcknowledgeIncident(pb.AcknowledgeIncidentRequest(incident_id=iid), metadata=md)
    assert view.status == c.INCIDENT_STATUS_ACKNOWLEDGED and view.acknowledged_by.id == "p1" and view.revision == 2
    again = await notify.stub.AcknowledgeIncident(pb.AcknowledgeIncidentRequest(incident_id=iid), metadata=md)
    assert again.revision == 2  # idempotent
    await refused(notify.stub.ResolveIncident(pb.ResolveIncidentRequest(
        incident_id=iid, verdict=c.VERDICT_CONFIRMED, expected_revision=1), metadata=md),
        grpc.StatusCode.ABORTED, "REVISION_MISMATCH")
    await refused(notify.stub.ResolveIncident(pb.ResolveIncidentRequest(incident_id=iid), metadata=md),
                  grpc.StatusCode.INVALID_ARGUMENT, "VERDICT_REQUIRED")
    escalated = await notify.stub.EscalateIncident(pb.EscalateIncidentRequest(
        incident_id=iid, target=pb.ESCALATION_TARGET_CHIEF_PROCTOR, reason="looks deliberate"), metadata=md)
    assert escalated.status == c.INCIDENT_STATUS_ESCALATED and escalated.revision == 3
    resolved = await notify.stub.ResolveIncident(pb.ResolveIncidentRequest(
        incident_id=iid, verdict=c.VERDICT_CONFIRMED, note="second person seen", expected_revision=3), metadata=md)
    assert resolved.status == c.INCIDENT_STATUS_RESOLVED and resolved.verdict == c.VERDICT_CONFIRMED
    same = await notify.stub.ResolveIncident(pb.ResolveIncidentRequest(
        incident_id=iid, verdict=c.VERDICT_CONFIRMED), metadata=md)
    assert same.revision == resolved.revision
    await refused(notify.stub.ResolveIncident(pb.ResolveIncidentRequest(
        incident_id=iid, verdict=c.VERDICT_FALSE_ALARM, note="changed my mind"), metadata=md),
        grpc.StatusCode.FAILED_PRECONDITION, "ALREADY_RESOLVED")
    changed = await notify.stub.ResolveIncident(pb.ResolveIncidentRequest(
        incident_id=iid, verdict=c.VERDICT_FALSE_ALARM, note="reviewed the recording: a poster"),
        metadata=notify.chief())
    assert changed.verdict == c.VERDICT_FALSE_ALARM and changed.resolved_by.id == "chief"

    # every handling step reached the room's feed, in order, with its actor
    kinds = [i.incident.kind for i in await stream.until(
        lambda i: is_incident(i) and i.incident.incident.verdict == c.VERDICT_FALSE_ALARM)]
    assert kinds == [pb.INCIDENT_UPDATE_KIND_ACKNOWLEDGED, pb.INCIDENT_UPDATE_KIND_ESCALATED,
                     pb.INCIDENT_UPDATE_KIND_RESOLVED, pb.INCIDENT_UPDATE_KIND_RESOLVED]
    detail = await notify.stub.GetIncident(pb.GetIncidentRequest(incident_id=iid), metadata=md)
    assert [a.kind for a in detail.history] == [
        pb.INCIDENT_ACTION_KIND_OPENED, pb.INCIDENT_ACTION_KIND_ACKNOWLEDGED, pb.INCIDENT_ACTION_KIND_ESCALATED,
        pb.INCIDENT_ACTION_KIND_RESOLVED, pb.INCIDENT_ACTION_KIND_RESOLVED]
    audits = await kafka_events(notify.bootstrap, topics.AUDIT.name, __import__(
        "proctor.events.v1.audit_pb2").events.v1.audit_pb2.AuditEvent, notify.sitting_id, 4)
    assert [a.action for a in audits] == ["notify.incident.acknowledge", "notify.incident.escalate",
                                          "notify.incident.resolve", "notify.incident.resolve"]
    stream.cancel()


async def test_other_rooms_see_nothing(notify):
    incident, stream = await opened(notify)
    stream.cancel()
    outsider = notify.proctor("R2", sub="p2")
    iid = incident.incident_id
    for call in (notify.stub.GetIncident(pb.GetIncidentRequest(incident_id=iid), metadata=outsider),
                 notify.stub.AcknowledgeIncident(pb.AcknowledgeIncidentRequest(incident_id=iid), metadata=outsider),
                 notify.stub.ResolveIncident(pb.ResolveIncidentRequest(
                     incident_id=iid, verdict=c.VERDICT_FALSE_ALARM), metadata=outsider),
                 notify.stub.ListIncidents(pb.ListIncidentsRequest(sitting_id=notify.sitting_id, room_ids=["R1"]),
                                           metadata=outsider),
                 notify.stub.ReplyHelp(pb.ReplyHelpRequest(sitting_id=notify.sitting_id, candidate_id="c1",
                                                           text="hi"), metadata=outsider)):
        got = await refused(call, grpc.StatusCode.PERMISSION_DENIED, "OUT_OF_SCOPE")
        assert iid not in got.message_en and "c1" not in got.message_en
        assert "R1" not in got.message_en or got.metadata.get("room_id") == "R1"  # only the room they named
    mine = await notify.stub.ListIncidents(pb.ListIncidentsRequest(sitting_id=notify.sitting_id), metadata=outsider)
    assert list(mine.incidents) == [] and mine.total_size == 0
    other_sitting = notify.proctor("R1", sitting_id="another-sitting")
    await refused(notify.stub.GetIncident(pb.GetIncidentRequest(incident_id=iid), metadata=other_sitting),
                  grpc.StatusCode.PERMISSION_DENIED, "OUT_OF_SCOPE")
    await refused(notify.stub.GetIncident(pb.GetIncidentRequest(incident_id="nope"), metadata=notify.staff()),
                  grpc.StatusCode.NOT_FOUND, "INCIDENT_NOT_FOUND")
    await refused(notify.stub.GetIncident(pb.GetIncidentRequest(incident_id=iid), metadata=notify.candidate("c1")),
                  grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")


async def test_list_pages_and_summary(notify):
    await notify.register("c1", "R1")
    await notify.register("c2", "R2")
    stream = notify.feed(notify.staff(), start=pb.FEED_START_NOW)
    await stream.next(timeout_s=10, keepalives=True)
    made = [notify.incident("c1" if n % 3 else "c2", kind=c.INCIDENT_KIND_GAZE_AWAY if n % 2 else
                            c.INCIDENT_KIND_NO_FACE) for n in range(7)]
    for inc in made:
        await notify.publish(inc)
    waiting = {i.incident_id for i in made}
    await stream.until(lambda i: is_incident(i) and not waiting.discard(i.incident.incident.incident.incident_id)
                       and not waiting)
    stream.cancel()
    seen, token = [], ""
    while True:
        page = await notify.stub.ListIncidents(pb.ListIncidentsRequest(
            sitting_id=notify.sitting_id, page_size=3, page_token=token), metadata=notify.staff())
        assert page.total_size == 7
        seen += [v.incident.incident_id for v in page.incidents]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(i.incident_id for i in made) and len(seen) == 7
    r1 = await notify.stub.ListIncidents(pb.ListIncidentsRequest(
        sitting_id=notify.sitting_id, kinds=[c.INCIDENT_KIND_GAZE_AWAY]), metadata=notify.proctor("R1"))
    assert {v.incident.room_id for v in r1.incidents} == {"R1"}
    assert all(v.incident.kind == c.INCIDENT_KIND_GAZE_AWAY for v in r1.incidents)
    summary = await notify.stub.SummarizeIncidents(pb.SummarizeIncidentsRequest(sitting_id=notify.sitting_id),
                                                   metadata=notify.chief())
    assert summary.total == 7
    expected = {}
    for n, inc in enumerate(made):
        key = ("R1" if n % 3 else "R2", inc.kind)
        expected[key] = expected.get(key, 0) + 1
    assert {(x.room_id, x.kind): x.count for x in summary.counts} == expected
    await refused(notify.stub.ListIncidents(pb.ListIncidentsRequest(
        sitting_id=notify.sitting_id, page_token="%%%"), metadata=notify.staff()),
        grpc.StatusCode.INVALID_ARGUMENT, "PAGE_TOKEN_INVALID")


async def test_help_chat_round_trip(notify):
    await notify.register("c1", "R1")
    md = notify.proctor("R1")
    stream = notify.feed(md, start=pb.FEED_START_NOW)
    await stream.next(timeout_s=10, keepalives=True)
    desk = notify.notices(notify.candidate("c1"), "c1")
    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    asked = await notify.help_from("c1", f"my camera froze {hostile}")
    got = await stream.until(lambda i: i.WhichOneof("item") == "help")
    assert got[-1].help.message.text == asked.text  # kept verbatim: the console escapes it
    assert got[-1].help.unanswered_in_thread == 1 and got[-1].help.message.room_id == "R1"
    threads = await notify.stub.ListHelpThreads(pb.ListHelpThreadsRequest(
        sitting_id=notify.sitting_id, only_unanswered=True), metadata=md)
    assert [t.candidate_id for t in threads.threads] == ["c1"] and threads.threads[0].unanswered == 1

    reply = await notify.stub.ReplyHelp(pb.ReplyHelpRequest(
        sitting_id=notify.sitting_id, candidate_id="c1", text="请刷新页面 / reload the page", client_message_id="r1"),
        metadata=md)
    again = await notify.stub.ReplyHelp(pb.ReplyHelpRequest(
        sitting_id=notify.sitting_id, candidate_id="c1", text="请刷新页面 / reload the page", client_message_id="r1"),
        metadata=md)
    assert again.message_id == reply.message_id  # idempotent by client_message_id
    notice = await desk.until(lambda i: i.WhichOneof("item") == "notice")
    assert notice[-1].notice.kind == c.NOTICE_KIND_HELP_REPLY and notice[-1].notice.help_reply.text == reply.text
    thread = await notify.stub.ListHelpThread(pb.ListHelpThreadRequest(
        sitting_id=notify.sitting_id, candidate_id="c1"), metadata=notify.candidate("c1"))
    assert [m.text for m in thread.messages] == [asked.text, reply.text]
    threads = await notify.stub.ListHelpThreads(pb.ListHelpThreadsRequest(
        sitting_id=notify.sitting_id, only_unanswered=True), metadata=md)
    assert list(threads.threads) == []
    published = await kafka_events(notify.bootstrap, topics.HELP_MESSAGES.name, messaging_pb2.HelpMessage,
                                   notify.sitting_id, 2)
    assert [p.message.direction for p in published] == [c.CHAT_DIRECTION_CANDIDATE_TO_PROCTOR,
                                                        c.CHAT_DIRECTION_PROCTOR_TO_CANDIDATE]
    await refused(notify.stub.ReplyHelp(pb.ReplyHelpRequest(
        sitting_id=notify.sitting_id, candidate_id="c1", text="x" * 2001), metadata=md),
        grpc.StatusCode.INVALID_ARGUMENT, "MESSAGE_TOO_LONG")
    await refused(notify.stub.ReplyHelp(pb.ReplyHelpRequest(
        sitting_id=notify.sitting_id, candidate_id="c1", text="   "), metadata=md),
        grpc.StatusCode.INVALID_ARGUMENT, "MESSAGE_EMPTY")
    await refused(notify.stub.ListHelpThread(pb.ListHelpThreadRequest(
        sitting_id=notify.sitting_id, candidate_id="c1"), metadata=notify.candidate("c2")),
        grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_CANDIDATE")
    stream.cancel()
    desk.cancel()


async def test_candidate_notices_warnings_uploads_and_resume(notify):
    incident, stream = await opened(notify, kind=c.INCIDENT_KIND_NO_FACE)
    stream.cancel()
    desk = notify.notices(notify.candidate("c1"), "c1")
    phone = notify.notices(notify.candidate("c1", Role.PHONE), "c1")
    warning = (await desk.until(lambda i: i.WhichOneof("item") == "notice"))[-1].notice
    assert warning.kind == c.NOTICE_KIND_WARNING and warning.text.zh == "请保持面部在画面内"
    assert warning.text.en == "Keep your face in view" and warning.related_incident_id == incident.incident_id
    cursor = desk.cursor
    desk.cancel()

    sent = await notify.stub.SendCandidateNotice(pb.SendCandidateNoticeRequest(
        sitting_id=notify.sitting_id, candidate_id="c1", kind=c.NOTICE_KIND_WARNING,
        text=c.LocalizedText(zh="请勿离开座位", en="Stay in your seat"), client_request_id="n1",
        related_incident_id=incident.incident_id), metadata=notify.proctor("R1"))
    await notify.producer.send(topics.MEDIA_STREAMS.name, "c1", media_pb2.MediaStreamEvent(
        meta=meta(sitting_id=notify.sitting_id, candidate_id="c1", producer="media-ingest",
                  event_time=__import__("datetime").datetime.now(__import__("datetime").UTC)),
        kind=media_pb2.MEDIA_STREAM_EVENT_KIND_CANDIDATE_UPLOAD_COMPLETE, attempt_number=1,
        progress=c.UploadProgress(complete=True, streams_total=3, streams_verified=3)))
    resumed = notify.notices(notify.candidate("c1"), "c1", cursor=cursor)
    items = await resumed.until(lambda i: i.WhichOneof("item") == "notice"
                                and i.notice.kind == c.NOTICE_KIND_UPLOAD_STATUS)
    notices = [i.notice for i in items if i.WhichOneof("item") == "notice"]
    assert [n.notice_id for n in notices] == [sent.notice_id, notices[-1].notice_id]  # nothing repeated
    assert notices[-1].upload.complete and notices[-1].text.zh.startswith("上传成功")
    # the phone gets what is for every device but not the desktop's camera warning
    phone_items = [i.notice for i in await phone.quiet(2.0) if i.WhichOneof("item") == "notice"]
    assert warning.notice_id not in [n.notice_id for n in phone_items]
    assert notices[-1].notice_id in [n.notice_id for n in phone_items]
    detail = await notify.stub.GetIncident(pb.GetIncidentRequest(incident_id=incident.incident_id),
                                           metadata=notify.staff())
    assert detail.history[-1].kind == pb.INCIDENT_ACTION_KIND_NOTICE_SENT
    await refused(notify.notices(notify.candidate("c2"), "c1").next(), grpc.StatusCode.PERMISSION_DENIED,
                  "NOT_YOUR_CANDIDATE")
    await refused(notify.notices(notify.candidate("c1"), "c1", cursor="garbage").next(),
                  grpc.StatusCode.INVALID_ARGUMENT, "CURSOR_INVALID")
    await refused(notify.stub.SendCandidateNotice(pb.SendCandidateNoticeRequest(
        sitting_id=notify.sitting_id, candidate_id="c1", kind=c.NOTICE_KIND_WARNING,
        text=c.LocalizedText(en="x" * 501)), metadata=notify.proctor("R1")),
        grpc.StatusCode.INVALID_ARGUMENT, "TEXT_TOO_LONG")
    await refused(notify.stub.SendCandidateNotice(pb.SendCandidateNoticeRequest(
        sitting_id=notify.sitting_id, candidate_id="ghost", kind=c.NOTICE_KIND_INFO,
        text=c.LocalizedText(en="hello")), metadata=notify.staff()), grpc.StatusCode.NOT_FOUND, "CANDIDATE_NOT_FOUND")
    resumed.cancel()
    phone.cancel()
    await asyncio.sleep(0)

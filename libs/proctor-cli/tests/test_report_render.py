"""Rendering of the review report on models built from the services' real protobuf messages, and the
thumbnail copy through the real storage backends (filesystem; S3 on the local MinIO)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from proctor.common.v1 import common_pb2 as c
from proctor.exam.v1 import exam_session_pb2 as epb
from proctor.media.v1 import media_ingest_pb2 as mpb
from proctor.notify.v1 import notify_pb2 as npb
from proctor_cli.commands_report import summarize
from proctor_cli.report.candidate_page import candidate_path, player_path
from proctor_cli.report.files import ObjectFetcher, copy_thumbnails, slug
from proctor_cli.report.model import (
    CandidateReport,
    Report,
    RoomReport,
    StreamUpload,
    UploadSummary,
    build_timeline,
    incident_entry,
    summary_rows,
)
from proctor_cli.report.render import write_report
from proctor_runtime.events import ts
from proctor_storage import FilesystemStore, StorageSettings, open_store

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
XSS = "<script>alert('x')</script>"


class Text(HTMLParser):
    """The visible text and every tag with its attributes, to check what a browser would show."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(path: Path) -> Text:
    parser = Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def sitting() -> epb.Sitting:
    s = epb.Sitting(sitting_id="s-1", name="高数 <期末>", kind=c.SITTING_KIND_FORMAL, time_zone="Asia/Shanghai")
    s.timeline.CopyFrom(epb.Timeline(start=ts(T0), last_entry=ts(T0 + timedelta(minutes=30)),
                                     end=ts(T0 + timedelta(minutes=90)), upload_deadline=ts(T0 + timedelta(hours=2))))
    return s


def incident(iid: str, kind: int, start: datetime, *, thumb: str = "", playlist: str = "", summary_en: str = "",
             severity: int = c.SEVERITY_HIGH) -> c.Incident:
    inc = c.Incident(incident_id=iid, sitting_id="s-1", candidate_id="c-1", room_id="r-1", kind=kind,
                     severity=severity, confidence=0.93, start_time=ts(start), end_time=ts(start + timedelta(seconds=8)),
                     detector="face_count@2", source=c.INCIDENT_SOURCE_DETECTOR,
                     summary=c.LocalizedText(zh="检测到两张人脸", en=summary_en or "2 faces"),
                     attributes={"face_count": "2"})
    ev = inc.evidence.add(thumbnail_uri=thumb, segment_id="stream-cam:3", stream_kind=c.STREAM_KIND_DESKTOP_CAMERA,
                          captured_at=ts(start + timedelta(seconds=2)), playlist_uri=playlist, note="second face left")
    ev.start_offset.FromTimedelta(timedelta(seconds=12, milliseconds=500))
    ev.end_offset.FromTimedelta(timedelta(seconds=20))
    return inc


def resolved(inc: c.Incident, verdict: int, who: str, note: str, at: datetime) -> npb.IncidentDetail:
    proctor = c.Actor(kind=c.ACTOR_KIND_PROCTOR, id=who, display_name="王老师")
    view = npb.IncidentView(incident=inc, status=c.INCIDENT_STATUS_RESOLVED, verdict=verdict, note=note,
                            resolved_by=proctor, resolved_at=ts(at), acknowledged_by=proctor,
                            acknowledged_at=ts(at - timedelta(seconds=30)), revision=3)
    history = [npb.IncidentAction(kind=npb.INCIDENT_ACTION_KIND_OPENED, at=ts(at - timedelta(minutes=1))),
               npb.IncidentAction(kind=npb.INCIDENT_ACTION_KIND_ACKNOWLEDGED, actor=proctor,
                                  at=ts(at - timedelta(seconds=30))),
               npb.IncidentAction(kind=npb.INCIDENT_ACTION_KIND_RESOLVED, actor=proctor, at=ts(at), verdict=verdict,
                                  note=note)]
    return npb.IncidentDetail(view=view, history=history)


def upload() -> UploadSummary:
    info = mpb.MediaStreamInfo(stream_id="stream-cam", kind=c.STREAM_KIND_DESKTOP_CAMERA,
                               state=mpb.STREAM_STATE_VERIFICATION_FAILED, segments_complete=9, bytes_committed=123456,
                               opened_at=ts(T0 - timedelta(minutes=5)), closed_at=ts(T0 + timedelta(minutes=91)),
                               problems=["MISSING_SEGMENTS"])
    status = mpb.CandidateUploadStatus(sitting_id="s-1", candidate_id="c-1", streams=[info], progress=c.UploadProgress(
        complete=False, streams_total=3, streams_verified=0, bytes_committed=123456,
        missing_kinds=[c.STREAM_KIND_PHONE_EVIDENCE],
        problems=[c.LocalizedText(zh="手机录像缺失", en="phone recording missing")]))
    return UploadSummary(status, [StreamUpload(info, segments=9, missing_segments=(4, 5), media_seconds=18.0,
                                               playlist_uri="file:///var/media/s-1/c-1/stream-cam/playlist.m3u8")])


def build(tmp_path: Path, thumb_uri: str, missing_uri: str) -> Report:
    status = epb.CandidateStatus(candidate=c.CandidateSnapshot(
        sitting_id="s-1", candidate_id="c-1", room_id="r-1", display_name="张三", state=c.CANDIDATE_STATE_FINISHED,
        state_since=ts(T0 + timedelta(minutes=90)), attempt_number=1))
    status.history.add(from_state=c.CANDIDATE_STATE_WAITING, to_state=c.CANDIDATE_STATE_IN_EXAM, at=ts(T0 + timedelta(
        minutes=1)), actor=c.Actor(kind=c.ACTOR_KIND_CANDIDATE, id="c-1"))
    status.history.add(from_state=c.CANDIDATE_STATE_IN_EXAM, to_state=c.CANDIDATE_STATE_FINISHED,
                       at=ts(T0 + timedelta(minutes=90)), actor=c.Actor(kind=c.ACTOR_KIND_SYSTEM, id="clock"),
                       reason="the end")
    up = upload()
    details = [
        resolved(incident("inc-faces", c.INCIDENT_KIND_MULTIPLE_FACES, T0 + timedelta(minutes=10), thumb=thumb_uri,
                          summary_en=f"two faces {XSS}"),
                 c.VERDICT_CONFIRMED, "p-7", "second person <b>visible</b>", T0 + timedelta(minutes=12)),
        resolved(incident("inc-gaze", c.INCIDENT_KIND_GAZE_AWAY, T0 + timedelta(minutes=20), thumb=missing_uri,
                          playlist="javascript:alert(1)"),
                 c.VERDICT_FALSE_ALARM, "p-7", "reading the question", T0 + timedelta(minutes=21)),
    ]
    help_ = [c.ChatMessage(message_id="m1", direction=c.CHAT_DIRECTION_CANDIDATE_TO_PROCTOR, text="摄像头坏了 <img src=x>",
                           author=c.Actor(kind=c.ACTOR_KIND_CANDIDATE, id="c-1"), sent_at=ts(T0 + timedelta(minutes=5))),
             c.ChatMessage(message_id="m2", direction=c.CHAT_DIRECTION_PROCTOR_TO_CANDIDATE, text="请重新插拔",
                           author=c.Actor(kind=c.ACTOR_KIND_PROCTOR, id="p-7"), sent_at=ts(T0 + timedelta(minutes=6)))]
    cand = CandidateReport(status=status, incidents=[incident_entry(d, up) for d in details], help=help_, upload=up)
    cand.timeline = build_timeline(cand, sitting())
    summary = npb.IncidentSummary(total=5, counts=[
        npb.IncidentCount(room_id="r-1", kind=c.INCIDENT_KIND_MULTIPLE_FACES, status=c.INCIDENT_STATUS_RESOLVED,
                          verdict=c.VERDICT_CONFIRMED, count=1),
        npb.IncidentCount(room_id="r-1", kind=c.INCIDENT_KIND_MULTIPLE_FACES, status=c.INCIDENT_STATUS_NEW, count=2),
        npb.IncidentCount(room_id="r-1", kind=c.INCIDENT_KIND_GAZE_AWAY, status=c.INCIDENT_STATUS_RESOLVED,
                          verdict=c.VERDICT_FALSE_ALARM, count=1),
        npb.IncidentCount(room_id="r-2", kind=c.INCIDENT_KIND_NO_FACE, status=c.INCIDENT_STATUS_ACKNOWLEDGED, count=1)])
    room = epb.Room(sitting_id="s-1", room_id="r-1", candidate_count=2,
                    state_counts=[epb.StateCount(state=c.CANDIDATE_STATE_FINISHED, count=2)])
    return Report(sitting=sitting(), scope="room", scope_id="r-1", rooms=[RoomReport("r-1", room, summary)],
                  candidates=[cand], generated_at=T0 + timedelta(hours=3))


@pytest.fixture
def written(tmp_path: Path) -> tuple[Report, Path, list[Path]]:
    store = FilesystemStore(tmp_path / "objects")
    source = tmp_path / "thumb.jpg"
    source.write_bytes(JPEG)
    thumb_uri = store.put_file("evidence/s-1/c-1/inc-faces-r1-0.jpg", source, "image/jpeg")
    missing_uri = store.uri("evidence/s-1/c-1/gone.jpg")
    report = build(tmp_path, thumb_uri, missing_uri)
    out = tmp_path / "out"
    copy_thumbnails(report, out, ObjectFetcher(StorageSettings(url=(tmp_path / "objects").as_uri())))
    return report, out, write_report(report, out)


def test_candidate_page_has_incidents_verdicts_thumbnails_and_recording_offsets(written):
    report, out, pages = written
    page = out / candidate_path(report.candidates[0])
    assert page in pages
    doc = parse(page)
    text = " ".join(doc.text)
    articles = {a["data-incident"]: a for tag, a in doc.tags if tag == "article"}
    assert set(articles) == {"inc-faces", "inc-gaze"}
    assert articles["inc-faces"]["data-kind"] == "MULTIPLE_FACES"
    assert articles["inc-faces"]["data-verdict"] == str(c.VERDICT_CONFIRMED)
    assert "确认违规 / Confirmed" in text and "误报 / False alarm" in text
    assert "王老师 (p-7)" in text and "second person <b>visible</b>" in text  # the note, shown as text
    assert "2026-12-01 10:12:00" in text  # resolved_at in the sitting's time zone
    # the thumbnail was copied into the report and the page points at the copy
    imgs = [a for tag, a in doc.tags if tag == "img"]
    assert len(imgs) == 1 and imgs[0]["src"].startswith("../thumbs/")
    assert (page.parent / imgs[0]["src"]).resolve().read_bytes() == JPEG
    # the missing one is named with the reason
    assert "Thumbnail missing" in text and "gone.jpg" in text
    # the recording link: the evidence's stream manifest has the playlist (the incident carried none)
    entry = report.candidates[0].incidents[0]
    player = out / player_path(entry, 0)
    assert player in pages
    hrefs = [a.get("href", "") for tag, a in doc.tags if tag == "a"]
    assert f"../{player_path(entry, 0)}" in hrefs
    assert "file:///var/media/s-1/c-1/stream-cam/playlist.m3u8#t=12.500,20.000" in hrefs
    assert "0:00:12.500 – 0:00:20.000" in text
    video = [a for tag, a in parse(player).tags if tag == "video"]
    assert video[0]["src"] == "file:///var/media/s-1/c-1/stream-cam/playlist.m3u8#t=12.500,20.000"
    assert "mpv --start=12.500 '/var/media/s-1/c-1/stream-cam/playlist.m3u8'" in " ".join(parse(player).text)


def test_text_from_the_data_is_escaped_and_foreign_schemes_are_never_links(written):
    report, out, pages = written
    raw = (out / candidate_path(report.candidates[0])).read_text(encoding="utf-8")
    assert XSS not in raw and "<img src=x>" not in raw and "<b>visible</b>" not in raw
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in raw
    assert "javascript:" not in " ".join(a.get("href", "") + a.get("src", "")
                                         for p in pages for _, a in parse(p).tags)
    doc = parse(out / "index.html")
    assert "高数 <期末>" in " ".join(doc.text) and "高数 <期末>" not in (out / "index.html").read_text(encoding="utf-8")
    assert not any(tag == "script" for p in pages for tag, _ in parse(p).tags)


def test_room_summary_counts_per_kind_status_and_verdict(written):
    report, out, _ = written
    doc = parse(out / "index.html")
    cells: dict[tuple[str, str], str] = {}
    spans = [a for tag, a in doc.tags if tag == "span" and "data-kind" in a]
    raw = (out / "index.html").read_text(encoding="utf-8")
    for a in spans:
        m = re.search(rf'data-kind="{a["data-kind"]}" data-col="{a["data-col"]}">(\d+)<', raw)
        cells[(a["data-kind"], a["data-col"])] = m.group(1) if m else ""
    assert cells[("MULTIPLE_FACES", "total")] == "3"
    assert cells[("MULTIPLE_FACES", f"status-{c.INCIDENT_STATUS_NEW}")] == "2"
    assert cells[("MULTIPLE_FACES", f"verdict-{c.VERDICT_CONFIRMED}")] == "1"
    assert cells[("GAZE_AWAY", f"verdict-{c.VERDICT_FALSE_ALARM}")] == "1"
    assert cells[("ALL", "total")] == "4"  # room r-1 only: r-2's NO_FACE is not in this room
    assert ("NO_FACE", "total") not in cells
    assert [r.kind for r in summary_rows(report.rooms[0].summary)] == [
        c.INCIDENT_KIND_MULTIPLE_FACES, c.INCIDENT_KIND_NO_FACE, c.INCIDENT_KIND_GAZE_AWAY]  # ties: kind order


def test_timeline_is_ordered_and_tells_the_story(written):
    report, out, _ = written
    timeline = report.candidates[0].timeline
    assert [e.at for e in timeline] == sorted(e.at for e in timeline)
    categories = [e.category for e in timeline]
    for category in ("sitting", "state", "incident", "handling", "help", "upload"):
        assert category in categories, category
    titles = [e.title for e in timeline]
    assert titles.index("考试开始 / Exam starts") < titles.index("候考中 / Waiting → 考试中 / In exam")
    assert any(t.startswith("裁定 / Resolved: 多人出现") for t in titles)
    handled = [e for e in timeline if e.category == "handling"]
    assert all(e.anchor.startswith("incident-") for e in handled) and len(handled) == 4  # ack+resolve, twice
    text = " ".join(parse(out / candidate_path(report.candidates[0])).text)
    assert "摄像头坏了 <img src=x>" in text and "请重新插拔" in text
    assert "未完成 / Incomplete" in text and "4, 5" in text and "手机机位 / Phone evidence" in text


def test_json_summary_lists_files_candidates_and_counts(written):
    report, out, pages = written
    result = summarize(report, out, pages)
    assert result["candidates"] == ["c-1"] and result["incidents"] == 2
    assert result["counts_per_kind"] == {"MULTIPLE_FACES": 1, "GAZE_AWAY": 1}
    assert result["verdicts"] == {"CONFIRMED": 1, "FALSE_ALARM": 1}
    assert result["room_summary_per_kind"] == {"MULTIPLE_FACES": 3, "GAZE_AWAY": 1}
    assert "index.html" in result["files"] and any(f.startswith("thumbs/") for f in result["files"])
    assert result["thumbnails_copied"] == 1 and len(result["thumbnails_missing"]) == 1
    assert all((out / f).exists() for f in result["files"])


def test_slug_keeps_plain_ids_and_makes_others_safe_and_distinct():
    assert slug("c-001") == "c-001"
    assert slug("../etc/passwd") != slug("__etc_passwd") and "/" not in slug("../etc/passwd")
    assert not slug("../x").startswith(".")


def test_thumbnails_are_fetched_from_s3(s3_endpoint, tmp_path: Path):
    settings = StorageSettings(url=f"s3://{s3_endpoint.bucket}/report-{uuid.uuid4().hex[:8]}",
                               s3_endpoint_url=s3_endpoint.endpoint_url, s3_region=s3_endpoint.region,
                               s3_access_key=s3_endpoint.access_key, s3_secret_key=s3_endpoint.secret_key)
    source = tmp_path / "t.jpg"
    source.write_bytes(JPEG)
    uri = open_store(settings).put_file("evidence/s-1/c-1/x.jpg", source, "image/jpeg")
    assert uri.startswith("s3://")
    fetched = ObjectFetcher(settings).fetch(uri, tmp_path / "copy" / "x.jpg")
    assert fetched.read_bytes() == JPEG
    with pytest.raises(Exception, match="x-missing"):
        ObjectFetcher(settings).fetch(uri.replace("x.jpg", "x-missing.jpg"), tmp_path / "copy" / "y.jpg")


def test_pages_print_to_pdf_with_headless_chromium(written):
    from proctor_cli.report.pdf import find_chromium, print_pdf

    chromium = find_chromium()
    if chromium is None:
        pytest.skip("chromium is not installed (the --pdf flag is then skipped with this reason)")
    _, _, pages = written
    pdfs = print_pdf(chromium, [p for p in pages if p.parent.name != "players"])
    assert [p.name for p in pdfs] == ["index.pdf", "c-1.pdf"]
    assert all(p.read_bytes().startswith(b"%PDF") and p.stat().st_size > 1000 for p in pdfs)


async def test_a_service_that_is_down_is_named_with_its_address():
    import socket

    from proctor_cli.report.gather import Gatherer, ReportError, Targets, gather_report

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    target = f"127.0.0.1:{port}"
    gatherer = Gatherer(Targets(target, "127.0.0.1:1", "127.0.0.1:1"), token="t")
    try:
        with pytest.raises(ReportError, match=rf"exam-session at {target} is unreachable \(UNAVAILABLE"):
            await gather_report(gatherer, "s-1", room_id="r-1")
    finally:
        await gatherer.close()

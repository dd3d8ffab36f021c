"""The console's HTTP API against a real notify: security headers, gRPC errors as HTTP statuses with
the server's reason and zh/en texts, the SSE feed with resume, and thumbnails only for incidents the
caller may see."""

import asyncio
import io
import json
import logging
import re
import socket
import time

import aiohttp
from aiohttp import web
from PIL import Image
from prometheus_client import REGISTRY

from notify.console.feed import FeedLimits
from notify.console.server import CSP, build_app
from notify.console.upstream import NotifyClient
from proctor_runtime.tokens import Role, TokenSigner, generate_key
from proctor_storage import FilesystemStore

pytest_plugins = ("console_helpers",)  # the console_env fixture


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def error_of(response: aiohttp.ClientResponse) -> dict:
    body = await response.json()
    error = body["error"]
    assert error["message_en"] and error["message_zh"], error
    return error


async def sse_events(response: aiohttp.ClientResponse, until, timeout_s: float = 10.0) -> list[dict]:
    """Parse server-sent events until ``until(event)`` holds for one; events are dicts (event, id, data)."""
    events: list[dict] = []
    buffer = ""
    async with asyncio.timeout(timeout_s):
        while True:
            chunk = await response.content.readany()
            assert chunk, "the feed ended"
            buffer += chunk.decode()
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                event = {"event": "message", "id": "", "data": None}
                for line in block.split("\n"):
                    if line.startswith("event: "):
                        event["event"] = line[7:]
                    elif line.startswith("id: "):
                        event["id"] = line[4:]
                    elif line.startswith("data: "):
                        event["data"] = json.loads(line[6:])
                if event["data"] is None:
                    continue
                events.append(event)
                if until(event):
                    return events


def incident_id_of(event: dict) -> str:
    if event["event"] != "incident":
        return ""
    return event["data"]["incident"]["incident"]["incident"]["incident_id"]


async def test_page_is_served_with_a_strict_content_security_policy(console_env):
    async with aiohttp.ClientSession(console_env.base_url) as http:
        async with http.get("/") as page:
            assert page.status == 200
            html = await page.text()
            assert page.headers["Content-Security-Policy"] == CSP
            assert page.headers["X-Content-Type-Options"] == "nosniff"
            assert page.headers["X-Frame-Options"] == "DENY"
            assert page.headers["Cache-Control"] == "no-store"
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert 'src="/static/' in tag, tag  # no inline script
        assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
        assert not re.search(r"\sstyle\s*=", html), "inline style"
        for name in ("console.js", "api.js", "i18n.js", "console.css"):
            async with http.get(f"/static/{name}") as asset:
                assert asset.status == 200, name
                assert asset.headers["Content-Security-Policy"] == CSP
                source = await asset.text()
                assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", source), name
    assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
    assert "script-src 'self'" in CSP and "require-trusted-types-for 'script'" in CSP


async def test_refusals_carry_the_servers_reason_in_both_languages(console_env, caplog):
    caplog.set_level(logging.DEBUG)
    n = console_env.notify
    await n.register("c1", "R1")
    incident = n.incident("c1")
    await n.publish(incident)
    r1 = console_env.proctor_token("R1")
    r2 = console_env.proctor_token("R2", sub="p2")
    expired = n.admin.issue(sub="p1", role=Role.PROCTOR, ttl_s=60, now=time.time() - 3600,
                            sitting_id=n.sitting_id, rooms=("R1",))[0]
    forged = TokenSigner(generate_key("admin-1")[0]).issue(sub="p1", role=Role.PROCTOR, ttl_s=3600,
                                                           sitting_id=n.sitting_id, rooms=("R1",))[0]
    iid = incident.incident_id
    async with aiohttp.ClientSession(console_env.base_url) as http:
        async with asyncio.timeout(20):  # notify applies the incident
            while True:
                async with http.get(f"/api/v1/incidents/{iid}", headers=auth(r1)) as got:
                    if got.status == 200:
                        view = (await got.json())["view"]
                        break
                await asyncio.sleep(0.05)
        assert view["status"] == "INCIDENT_STATUS_NEW" and view["revision"] == "1"

        async def refused(method: str, path: str, status: int, reason: str, **kwargs) -> dict:
            async with http.request(method, path, **kwargs) as response:
                error = await error_of(response)
                assert (response.status, error["reason"]) == (status, reason), error
                return error

        await refused("GET", f"/api/v1/incidents/{iid}", 401, "TOKEN_MISSING")
        await refused("GET", f"/api/v1/incidents/{iid}", 401, "TOKEN_INVALID", headers={"Authorization": "Basic x"})
        await refused("GET", f"/api/v1/incidents/{iid}", 401, "TOKEN_INVALID", headers=auth(forged))
        await refused("GET", f"/api/v1/incidents/{iid}", 401, "TOKEN_EXPIRED", headers=auth(expired))
        await refused("GET", f"/api/v1/feed?sitting={n.sitting_id}", 401, "TOKEN_EXPIRED", headers=auth(expired))
        error = await refused("GET", f"/api/v1/incidents/{iid}", 403, "OUT_OF_SCOPE", headers=auth(r2))
        assert error["code"] == "PERMISSION_DENIED" and error["message_zh"] == "不在您负责的考场范围内"
        await refused("GET", "/api/v1/incidents/nope", 404, "INCIDENT_NOT_FOUND", headers=auth(r1))
        await refused("GET", f"/api/v1/feed?sitting={n.sitting_id}&room=R2", 403, "OUT_OF_SCOPE", headers=auth(r1))
        await refused("GET", f"/api/v1/feed?sitting={n.sitting_id}&cursor=garbage", 400, "CURSOR_INVALID",
                      headers=auth(r1))
        await refused("GET", "/api/v1/feed", 400, "FIELD_REQUIRED", headers=auth(r1))
        await refused("POST", f"/api/v1/incidents/{iid}/resolve", 400, "INVALID_VALUE", headers=auth(r1),
                      json={"verdict": "maybe"})
        await refused("POST", f"/api/v1/incidents/{iid}/resolve", 413, "BODY_TOO_LARGE", headers=auth(r1),
                      json={"verdict": "confirmed", "note": "x" * 70_000})
        await refused("GET", "/api/v1/nothing", 404, "ROUTE_NOT_FOUND", headers=auth(r1))
        await refused("POST", f"/api/v1/incidents/{iid}/resolve", 400, "JSON_INVALID", headers={
            **auth(r1), "Content-Type": "application/json"}, data=b"{not json")
        error = await refused("POST", f"/api/v1/incidents/{iid}/acknowledge", 409, "REVISION_MISMATCH",
                              headers=auth(r1), json={"expected_revision": "7"})
        assert error["metadata"]["revision"] == "1" and error["message_zh"] == "该事件已被他人更新，请刷新"
        await refused("POST", f"/api/v1/incidents/{iid}/acknowledge", 403, "OUT_OF_SCOPE", headers=auth(r2),
                      json={})
        await refused("POST", "/api/v1/help/threads/c1/reply", 400, "MESSAGE_TOO_LONG", headers=auth(r1),
                      json={"sitting_id": n.sitting_id, "text": "x" * 2001})
        await refused("POST", "/api/v1/candidates/c1/notices", 403, "OUT_OF_SCOPE", headers=auth(r2),
                      json={"sitting_id": n.sitting_id, "preset": "keep_face_in_view"})

        async with http.post(f"/api/v1/incidents/{iid}/acknowledge", headers=auth(r1),
                             json={"expected_revision": "1", "note": "on it"}) as ok:
            assert ok.status == 200
            acked = (await ok.json())["incident"]
        assert acked["status"] == "INCIDENT_STATUS_ACKNOWLEDGED" and acked["revision"] == "2"
        assert acked["acknowledged_by"]["id"] == "p1"
        async with http.post(f"/api/v1/incidents/{iid}/resolve", headers=auth(r1),
                             json={"verdict": "needs_review", "expected_revision": 2}) as ok:
            assert ok.status == 200
            assert (await ok.json())["incident"]["verdict"] == "VERDICT_NEEDS_REVIEW"
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for token in (r1, r2, forged, expired):
        assert token not in logged and token.split(".")[2] not in logged


async def test_feed_resumes_from_the_last_cursor(console_env):
    n = console_env.notify
    await n.register("c1", "R1", name="Candidate One")
    r1 = console_env.proctor_token("R1")
    url = f"/api/v1/feed?sitting={n.sitting_id}&start=snapshot"
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    async with aiohttp.ClientSession(console_env.base_url, timeout=timeout) as http:
        async with http.get(url, headers=auth(r1)) as feed:
            assert feed.status == 200
            assert feed.headers["Content-Type"].startswith("text/event-stream")
            assert feed.headers["Content-Security-Policy"] == CSP
            snapshot = await sse_events(feed, lambda e: e["event"] == "snapshot_complete")
            candidates = [e["data"]["candidate"]["candidate"] for e in snapshot if e["event"] == "candidate"]
            assert [(s["candidate_id"], s["display_name"]) for s in candidates] == [("c1", "Candidate One")]
            assert snapshot[-1]["id"], "snapshot_complete carries the cursor"
            first = n.incident("c1", summary="first")
            await n.publish(first)
            got = await sse_events(feed, lambda e: incident_id_of(e) == first.incident_id)
            cursor = got[-1]["id"]
            assert cursor
        missed = [n.incident("c1", summary=f"missed {i}") for i in range(3)]
        for incident in missed:
            await n.publish(incident)
        await asyncio.sleep(1.0)
        # resume with Last-Event-ID, as a reconnecting page does with its last cursor
        async with http.get(f"/api/v1/feed?sitting={n.sitting_id}", headers={**auth(r1), "Last-Event-ID": cursor}) as again:
            assert again.status == 200
            events = await sse_events(again, lambda e: incident_id_of(e) == missed[-1].incident_id)
        ids = [incident_id_of(e) for e in events if e["event"] == "incident"]
        assert ids == [m.incident_id for m in missed]  # exactly what was missed, in order, no duplicates
        assert not [e for e in events if e["event"] == "snapshot_complete"]
        # a cursor of this sitting is refused for another one (staff may watch any sitting)
        staff = n.admin.issue(sub="staff", role=Role.STAFF, ttl_s=3600)[0]
        async with http.get(f"/api/v1/feed?sitting=other-{n.sitting_id}&cursor={cursor}", headers=auth(staff)) as bad:
            error = await error_of(bad)
            assert (bad.status, error["reason"]) == (400, "CURSOR_INVALID")


async def test_thumbnails_only_for_incidents_the_caller_may_see(console_env):
    n = console_env.notify
    await n.register("c1", "R1")
    store = FilesystemStore(console_env.media_root)
    image = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(image, "JPEG")
    path = console_env.media_root / "thumb.jpg"
    path.write_bytes(image.getvalue())
    uri = store.put_file(f"{n.sitting_id}/c1/thumbs/one.jpg", path)
    incident = n.incident("c1")
    incident.evidence[0].thumbnail_uri = uri
    incident.evidence.add(thumbnail_uri=store.uri(f"{n.sitting_id}/c1/thumbs/missing.jpg"),
                          captured_at=incident.detected_at)
    incident.evidence.add(note="no thumbnail")
    await n.publish(incident)
    r1, r2 = console_env.proctor_token("R1"), console_env.proctor_token("R2", sub="p2")
    base = f"/api/v1/incidents/{incident.incident_id}/evidence"
    async with aiohttp.ClientSession(console_env.base_url) as http:
        async with asyncio.timeout(20):  # notify applies the incident
            while True:
                async with http.get(f"/api/v1/incidents/{incident.incident_id}", headers=auth(r1)) as got:
                    if got.status == 200:
                        body = await got.json()
                        break
                await asyncio.sleep(0.05)
        assert "file://" not in json.dumps(body)  # storage URIs never reach the browser
        evidence = body["view"]["incident"]["evidence"]
        assert [e.get("thumbnail_url") for e in evidence] == [f"{base}/0/thumbnail", f"{base}/1/thumbnail", None]
        async with http.get(f"{base}/0/thumbnail", headers=auth(r1)) as thumb:
            assert thumb.status == 200 and thumb.headers["Content-Type"] == "image/jpeg"
            assert await thumb.read() == image.getvalue()
        for index, token, status, reason in ((0, r2, 403, "OUT_OF_SCOPE"), (0, "", 401, "TOKEN_MISSING"),
                                             (1, r1, 404, "THUMBNAIL_NOT_FOUND"), (2, r1, 404, "THUMBNAIL_NOT_FOUND"),
                                             (9, r1, 404, "THUMBNAIL_NOT_FOUND")):
            async with http.get(f"{base}/{index}/thumbnail", headers=auth(token) if token else {}) as refused:
                assert (refused.status, (await error_of(refused))["reason"]) == (status, reason), (index, token[:5])


async def test_a_browser_that_stops_reading_is_dropped_while_another_keeps_up(console_env):
    """A real socket that never reads (tiny receive buffer) next to a healthy reader, on a console with
    small limits in front of the same notify."""
    n = console_env.notify
    await n.register("c1", "R1")
    token = console_env.proctor_token("R1")
    client = NotifyClient(f"127.0.0.1:{n.host.port}")
    runner = web.AppRunner(build_app(client, None, FeedLimits(queue_items=16, write_timeout_s=1.0)),
                           handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]

    def too_slow() -> float:
        return REGISTRY.get_sample_value("notify_console_feed_streams_ended_total", {"outcome": "too_slow"}) or 0.0

    dropped_before = too_slow()
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(("127.0.0.1", port))
    stuck.sendall(f"GET /api/v1/feed?sitting={n.sitting_id} HTTP/1.1\r\nHost: console\r\n"
                  f"Authorization: Bearer {token}\r\n\r\n".encode())
    total, seen = 800, 0

    def enough(event: dict) -> bool:
        nonlocal seen
        seen += event["event"] == "incident"
        return seen >= total

    try:
        session = aiohttp.ClientSession(f"http://127.0.0.1:{port}", timeout=aiohttp.ClientTimeout(total=None))
        async with session as http, http.get(f"/api/v1/feed?sitting={n.sitting_id}", headers=auth(token)) as feed:
            await sse_events(feed, lambda e: e["event"] == "snapshot_complete")
            started = time.monotonic()
            for _ in range(total // 100):  # ~2.4 MB of events: more than the stuck socket's buffers hold
                await asyncio.gather(*(n.publish(n.incident("c1", summary="x" * 3000)) for _ in range(100)))
            await sse_events(feed, enough, timeout_s=30)
            healthy_s = time.monotonic() - started
        async with asyncio.timeout(15):
            while too_slow() == dropped_before:
                await asyncio.sleep(0.05)
        assert healthy_s < 10, f"the healthy browser took {healthy_s:.1f} s"
    finally:
        stuck.close()
        await runner.cleanup()
        await client.close()

"""The proctor console in a real browser (headless Chromium from Debian, Selenium over chromedriver)
against a real notify on the real Kafka and PostgreSQL: incidents produced on Kafka reach the right
proctor's page within a second and no other; handling persists across a reload; the help chat
round-trips to the candidate; markup in chat is shown as text and never runs."""

import asyncio
import io
import time

from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from proctor.common.v1 import common_pb2 as c
from proctor.notify.v1 import notify_pb2 as pb
from proctor_runtime.testing.helpers import bearer
from proctor_storage import FilesystemStore

pytest_plugins = ("console_helpers",)  # console_env, browsers (skip without chromium/chromedriver)


def card(driver, incident_id):
    found = driver.find_elements(By.CSS_SELECTOR, f'li.incident[data-incident-id="{incident_id}"]')
    return found[0] if found else None


def tile(driver, candidate_id):
    found = driver.find_elements(By.CSS_SELECTOR, f'#candidate-grid .cand[data-candidate-id="{candidate_id}"]')
    return found[0] if found else None


async def test_incident_reaches_the_console_of_its_room_only(console_env, browsers):
    n = console_env.notify
    await n.register("c1", "R1", name="张三")
    await n.register("c2", "R2", name="李四")
    mine, other = await asyncio.gather(browsers(), browsers())
    await asyncio.gather(mine.login(console_env.proctor_token("R1")),
                         other.login(console_env.proctor_token("R2", sub="p2")))
    # the grid shows each proctor their own room's candidates, by name, from the feed's snapshot
    assert (await mine.wait(lambda d: tile(d, "c1"), what="c1 in the grid")).text.startswith("张三")
    await other.wait(lambda d: tile(d, "c2"), what="c2 in the grid")
    assert await mine.call(lambda: tile(mine.driver, "c2")) is None
    assert await other.call(lambda: tile(other.driver, "c1")) is None

    incident = n.incident("c1", summary="画面中出现两张人脸")
    jpeg = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 200)).save(jpeg, "JPEG")
    (console_env.media_root / "t.jpg").write_bytes(jpeg.getvalue())
    incident.evidence[0].thumbnail_uri = FilesystemStore(console_env.media_root).put_file(
        f"{n.sitting_id}/c1/thumb.jpg", console_env.media_root / "t.jpg")
    sent = time.monotonic()
    await n.publish(incident)
    el = await mine.wait(lambda d: card(d, incident.incident_id), timeout_s=5, what="the incident card")
    latency = time.monotonic() - sent
    print(f"incident produced on Kafka -> on the proctor's page: {latency * 1000:.0f} ms")
    assert latency < 1.0, f"the incident appeared after {latency:.3f} s"
    text = await mine.call(lambda: el.text)
    assert "画面中出现两张人脸" in text and "多人出现" in text and "张三" in text
    assert await mine.call(lambda: el.get_attribute("class")) == "incident sev-HIGH st-NEW"
    # the evidence thumbnail is fetched with the token and shown from a blob: URL
    thumb = await mine.wait(lambda d: d.execute_script(
        "const img = document.querySelector(arguments[0]);"
        "return img && img.complete && img.naturalWidth ? [img.src.slice(0, 5), img.naturalWidth] : null;",
        f'li.incident[data-incident-id="{incident.incident_id}"] img.thumb'), what="the thumbnail")
    assert thumb == ["blob:", 64]

    # the other room's proctor is live too (sees their own incident) but never sees c1's
    theirs = n.incident("c2", summary="no face", kind=c.INCIDENT_KIND_NO_FACE, severity=c.SEVERITY_MEDIUM)
    await n.publish(theirs)
    await other.wait(lambda d: card(d, theirs.incident_id), timeout_s=5, what="R2's own incident")
    await asyncio.sleep(0.5)
    assert await other.call(lambda: card(other.driver, incident.incident_id)) is None
    assert await mine.call(lambda: card(mine.driver, theirs.incident_id)) is None
    # nor can they ask for it by hand with their token
    status = await other.js(
        "return fetch('/api/v1/incidents/' + arguments[0], {headers: {Authorization: 'Bearer ' +"
        " sessionStorage.getItem('proctor.console.token')}}).then(r => r.json().then(b => [r.status, b.error.reason]))",
        incident.incident_id)
    assert status == [403, "OUT_OF_SCOPE"]

    # English on request; zh-CN is the default
    await mine.call(lambda: mine.driver.find_element(By.ID, "lang-toggle").click())
    await mine.wait(lambda d: "Multiple faces" in card(d, incident.incident_id).text, what="English labels")
    assert await mine.js("return document.documentElement.lang") == "en"


async def test_handling_persists_across_a_reload(console_env, browsers):
    n = console_env.notify
    await n.register("c1", "R1", name="王五")
    browser = await browsers()
    await browser.login(console_env.proctor_token("R1"))
    incident = n.incident("c1", summary="camera covered", kind=c.INCIDENT_KIND_CAMERA_COVERED,
                          severity=c.SEVERITY_CRITICAL)
    await n.publish(incident)
    iid = incident.incident_id
    await browser.wait(lambda d: card(d, iid), what="the incident card")

    def click(action):
        def run(d):
            card(d, iid).find_element(By.CSS_SELECTOR, f'button[data-action="{action}"]').click()
            return True
        return run

    await browser.call(click("ack"), browser.driver)
    await browser.wait(lambda d: card(d, iid).get_attribute("data-status") == "ACKNOWLEDGED", what="acknowledged")

    def resolve(d):
        el = card(d, iid)
        Select(el.find_element(By.CSS_SELECTOR, "select.verdict-select")).select_by_value("false_alarm")
        el.find_element(By.CSS_SELECTOR, "input.note-input").send_keys("反光，不是遮挡")
        el.find_element(By.CSS_SELECTOR, 'button[data-action="resolve"]').click()
        return True

    await browser.call(resolve, browser.driver)
    await browser.wait(lambda d: card(d, iid).get_attribute("data-status") == "RESOLVED", what="resolved")
    detail = await n.stub.GetIncident(pb.GetIncidentRequest(incident_id=iid), metadata=n.proctor("R1"))
    assert detail.view.status == c.INCIDENT_STATUS_RESOLVED and detail.view.verdict == c.VERDICT_FALSE_ALARM
    assert detail.view.note == "反光，不是遮挡" and detail.view.resolved_by.id == "p1"

    await browser.call(browser.driver.refresh)
    await browser.wait(lambda d: d.find_element(By.ID, "conn").get_attribute("data-state") == "live",
                       what="the feed after the reload")
    el = await browser.wait(lambda d: card(d, iid), what="the resolved incident after the reload")
    assert await browser.call(lambda: (el.get_attribute("data-status"), el.get_attribute("data-verdict"))) == (
        "RESOLVED", "FALSE_ALARM")
    assert "误报" in await browser.call(lambda: el.text)
    # a resolved incident offers no acknowledge/resolve to a proctor
    assert not await browser.call(lambda: el.find_element(By.CSS_SELECTOR, 'button[data-action="ack"]').is_enabled())


async def test_help_chat_round_trips(console_env, browsers):
    n = console_env.notify
    await n.register("c1", "R1", name="赵六")
    notices = n.notices(bearer(console_env.candidate_token("c1")), "c1")
    browser = await browsers()
    await browser.login(console_env.proctor_token("R1"))
    asked = await n.help_from("c1", "摄像头打不开怎么办？", room_id="R1")
    thread = await browser.wait(
        lambda d: d.find_elements(By.CSS_SELECTOR, '#thread-list li.thread[data-candidate-id="c1"]'),
        what="the help thread")
    assert await browser.call(lambda: thread[0].get_attribute("data-unanswered")) == "1"
    await browser.call(thread[0].click)
    await browser.wait(lambda d: d.find_elements(By.CSS_SELECTOR, f'#chat-messages li.msg[data-message-id="{asked.message_id}"]'),
                       what="the candidate's message in the chat")

    def reply(d):
        d.find_element(By.ID, "reply-input").send_keys("请刷新页面后重试 / reload the page")
        d.find_element(By.ID, "reply-send").click()
        return True

    await browser.call(reply, browser.driver)
    await browser.wait(lambda d: [m for m in d.find_elements(By.CSS_SELECTOR, "#chat-messages li.msg.out")
                                  if "请刷新页面后重试" in m.text], what="the reply in the chat")
    # delivered to the candidate's notice stream as a help reply
    item = await notices.until(lambda i: i.WhichOneof("item") == "notice"
                               and i.notice.kind == c.NOTICE_KIND_HELP_REPLY)
    assert item[-1].notice.help_reply.text == "请刷新页面后重试 / reload the page"
    thread_now = await n.stub.ListHelpThread(pb.ListHelpThreadRequest(sitting_id=n.sitting_id, candidate_id="c1"),
                                             metadata=n.proctor("R1"))
    assert [m.direction for m in thread_now.messages] == [c.CHAT_DIRECTION_CANDIDATE_TO_PROCTOR,
                                                          c.CHAT_DIRECTION_PROCTOR_TO_CANDIDATE]
    await browser.wait(lambda d: d.find_element(By.CSS_SELECTOR, '#thread-list li.thread[data-candidate-id="c1"]')
                       .get_attribute("data-unanswered") == "0", what="the thread marked answered")

    # the warning button sends the face warning to the candidate
    incident = n.incident("c1", kind=c.INCIDENT_KIND_NO_FACE)
    await n.publish(incident)
    await browser.wait(lambda d: card(d, incident.incident_id), what="the incident card")
    await browser.call(lambda: card(browser.driver, incident.incident_id)
                       .find_element(By.CSS_SELECTOR, 'button[data-action="warn"]').click())
    warned = await notices.until(lambda i: i.WhichOneof("item") == "notice" and i.notice.kind == c.NOTICE_KIND_WARNING
                                 and i.notice.related_incident_id == incident.incident_id)
    assert warned[-1].notice.text.zh == "请保持面部在画面内"
    assert warned[-1].notice.text.en == "keep your face in view"
    notices.cancel()


async def test_markup_in_chat_is_text_and_never_runs(console_env, browsers):
    n = console_env.notify
    await n.register("c1", "R1", name="<b>钱七</b>")
    browser = await browsers()
    await browser.login(console_env.proctor_token("R1"))
    payloads = ['<img src=x onerror="window.__xss=1">', "<script>window.__xss=2</script>",
                '"><svg onload="window.__xss=3">']
    sent = [await n.help_from("c1", text, room_id="R1") for text in payloads]
    thread = await browser.wait(
        lambda d: d.find_elements(By.CSS_SELECTOR, '#thread-list li.thread[data-candidate-id="c1"]'),
        what="the help thread")
    await browser.call(thread[0].click)
    await browser.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#chat-messages li.msg")) == 3,
                       what="three messages")
    texts = await browser.js("return [...document.querySelectorAll('#chat-messages .m-text')].map(e => e.textContent)")
    assert texts == payloads
    assert await browser.js("return document.querySelectorAll('#chat-messages img, #chat-messages script,"
                            " #chat-messages svg').length") == 0
    name = await browser.js("return document.querySelector('.cand[data-candidate-id=\"c1\"] .c-name').textContent")
    assert name == "<b>钱七</b>"
    assert await browser.js("return document.querySelectorAll('#candidate-grid b').length") == 0
    # markup in an incident summary is text too
    incident = n.incident("c1", summary='<img src=y onerror="window.__xss=4">')
    await n.publish(incident)
    await browser.wait(lambda d: card(d, incident.incident_id), what="the incident card")
    assert await browser.js("return document.querySelector(arguments[0] + ' .summary').textContent",
                            f'li.incident[data-incident-id="{incident.incident_id}"]') == incident.summary.zh
    await asyncio.sleep(0.3)
    assert await browser.js("return window.__xss === undefined")
    # even a script that tried to write HTML would be stopped: the CSP enforces Trusted Types
    blocked = await browser.js("try { document.body.insertAdjacentHTML('beforeend', '<i>x</i>'); return false; }"
                               " catch (e) { return e instanceof TypeError; }")
    assert blocked
    assert [m.message_id for m in sent]


async def test_hundreds_of_candidates_update_in_place(console_env, browsers):
    n = console_env.notify
    count = 300
    ids = [f"c{i:03d}" for i in range(count)]
    await asyncio.gather(*(n.transition(cid, c.CANDIDATE_STATE_REGISTERED, room_id="R1", name=f"考生 {cid}")
                           for cid in ids))
    store = n.host.logic.store
    async with asyncio.timeout(30):
        while len(await store.roster(n.sitting_id, ["R1"])) < count:
            await asyncio.sleep(0.1)
    browser = await browsers()
    await browser.login(console_env.proctor_token("R1"))
    await browser.wait(lambda d: d.execute_script("return document.querySelectorAll('#candidate-grid .cand').length")
                       == count, what=f"{count} candidates in the grid")

    incidents = [n.incident(cid, summary=f"incident of {cid}") for cid in ids]
    sent = time.monotonic()
    await asyncio.gather(*(n.publish(i) for i in incidents))
    await browser.wait(lambda d: d.execute_script("return document.querySelectorAll('li.incident').length") == count,
                       timeout_s=15, what=f"{count} incident cards")
    print(f"{count} incidents produced -> all on the page: {(time.monotonic() - sent) * 1000:.0f} ms")
    assert time.monotonic() - sent < 5.0
    # mark every card and tile; live changes must update elements in place, never rebuild the lists
    await browser.js("for (const el of document.querySelectorAll('li.incident, .cand')) el.__probe = true;")
    target = incidents[137].incident_id
    chief = n.chief()  # another proctor handles it: the change arrives on the feed
    await n.stub.AcknowledgeIncident(pb.AcknowledgeIncidentRequest(incident_id=target), metadata=chief)
    await n.transition("c042", c.CANDIDATE_STATE_IN_EXAM)
    await browser.wait(lambda d: card(d, target).get_attribute("data-status") == "ACKNOWLEDGED", what="the ack")
    await browser.wait(lambda d: tile(d, "c042").get_attribute("data-state") in ("IN_EXAM",), what="the new state")
    unprobed = await browser.js("return [...document.querySelectorAll('li.incident, .cand')]"
                                ".filter(el => !el.__probe).length")
    assert unprobed == 0
    assert await browser.js("return document.querySelectorAll('li.incident').length") == count
    # filters hide without rebuilding
    await browser.call(lambda: Select(browser.driver.find_element(By.ID, "filter-status")).select_by_value(
        "ACKNOWLEDGED"))
    shown = await browser.js("return [...document.querySelectorAll('li.incident')].filter(el => !el.hidden)"
                             ".map(el => el.dataset.incidentId)")
    assert shown == [target]

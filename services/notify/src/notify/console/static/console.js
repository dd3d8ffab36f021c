// The proctor console page. Every user-supplied text (chat, names, notes, summaries) is set with
// textContent; the page never builds HTML from strings (the CSP enforces Trusted Types, so it
// could not). DOM updates are incremental, keyed by id, and batched once per animation frame.

import { Api, ApiError, Feed, claimsOf, newId } from "./api.js";
import { KINDS, SEVERITIES, STATES, STATUSES, errorText, label, language, setLanguage, t,
  translateStatic } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "proctor.console.token";
const SCOPE_KEY = "proctor.console.scope";
const LANG_KEY = "proctor.console.lang";
// states in which the desktop client must be online: a lost connection there shows as "offline"
const ONLINE_STATES = new Set(["WAITING", "IN_EXAM"]);

const short = (name, prefix) => (name || "").startsWith(prefix) ? name.slice(prefix.length) : (name || "UNSPECIFIED");
const num = (value) => Number(value || 0);
const timeOf = (iso) => (iso ? Date.parse(iso) : 0);

function clone(id) {
  const el = $(id).content.firstElementChild.cloneNode(true);
  translateStatic(el);
  return el;
}

function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleTimeString(language() === "zh" ? "zh-CN" : "en-GB", { hour12: false });
}

// ------------------------------------------------------------------------------------------
// State
// ------------------------------------------------------------------------------------------

const state = {
  api: null, claims: null, feed: null, scope: { sitting: "", rooms: [] },
  incidents: new Map(),   // incident_id -> {view, el, key}
  order: [],              // [{key, id}] sorted newest first
  candidates: new Map(),  // candidate_id -> {snap, el}
  byCandidate: new Map(),  // candidate_id -> Set of incident ids (grid badge, names on cards)
  threads: new Map(),     // candidate_id -> {summary, el}
  chat: null,             // {candidateId, threadId, ids: Set}
  pending: { incidents: new Map(), candidates: new Map(), help: [] },
  flushScheduled: false,
  thumbs: new Map(),      // console thumbnail URL -> object URL
  observer: null,
  filters: { kind: "", severity: "", status: "" },
  generation: 0,          // bumps on logout / scope change: late responses of an old scope are dropped
};

// ------------------------------------------------------------------------------------------
// Batching
// ------------------------------------------------------------------------------------------

function schedule() {
  if (state.flushScheduled) return;
  state.flushScheduled = true;
  const run = () => { if (state.flushScheduled) flush(); };
  requestAnimationFrame(run);
  setTimeout(run, 100);  // background tabs get no animation frames
}

function flush() {
  state.flushScheduled = false;
  const { incidents, candidates, help } = state.pending;
  state.pending = { incidents: new Map(), candidates: new Map(), help: [] };
  for (const snap of candidates.values()) applyCandidate(snap);
  for (const view of incidents.values()) applyIncident(view);
  for (const update of help) applyHelp(update);
  if (incidents.size || candidates.size) updateCounts();
}

function queueIncident(view) {
  const id = view?.incident?.incident_id;
  if (!id) return;
  const queued = state.pending.incidents.get(id);
  if (!queued || num(view.revision) >= num(queued.revision)) state.pending.incidents.set(id, view);
  schedule();
}

function queueCandidate(snap) {
  if (!snap?.candidate_id) return;
  state.pending.candidates.set(snap.candidate_id, snap);
  schedule();
}

// ------------------------------------------------------------------------------------------
// Incidents
// ------------------------------------------------------------------------------------------

function incidentKey(view) {
  return timeOf(view.incident.start_time) || timeOf(view.first_seen_at);
}

function insertOrdered(id, key, el) {
  const list = $("incident-list");
  const order = state.order;
  // newest first; ties by id. Binary search for the first entry that sorts after this one.
  let lo = 0, hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const o = order[mid];
    if (o.key > key || (o.key === key && o.id < id)) lo = mid + 1; else hi = mid;
  }
  const before = lo < order.length ? state.incidents.get(order[lo].id).el : null;
  order.splice(lo, 0, { key, id });
  list.insertBefore(el, before);
}

function applyIncident(view) {
  const inc = view.incident;
  let entry = state.incidents.get(inc.incident_id);
  if (entry && num(view.revision) < num(entry.view.revision)) return;
  if (!entry) {
    const el = clone("incident-tpl");
    el.dataset.incidentId = inc.incident_id;
    entry = { view, el, key: incidentKey(view) };
    state.incidents.set(inc.incident_id, entry);
    insertOrdered(inc.incident_id, entry.key, el);
  }
  entry.view = view;
  renderIncident(entry);
  entry.el.hidden = !matchesFilters(view);
  let ids = state.byCandidate.get(inc.candidate_id);
  if (!ids) state.byCandidate.set(inc.candidate_id, (ids = new Set()));
  ids.add(inc.incident_id);
  markCandidateIncidents(inc.candidate_id);
}

function renderIncident(entry) {
  const { view, el } = entry;
  const inc = view.incident;
  const sev = short(inc.severity, "SEVERITY_");
  const status = short(view.status, "INCIDENT_STATUS_");
  const verdict = view.verdict ? short(view.verdict, "VERDICT_") : "";
  el.className = `incident sev-${sev} st-${status}`;
  el.dataset.status = status;
  el.dataset.verdict = verdict;
  el.dataset.revision = String(num(view.revision));
  el.dataset.candidateId = inc.candidate_id || "";
  el.querySelector(".sev").textContent = label("sev_", "", sev);
  el.querySelector(".kind").textContent = label("kind_", "INCIDENT_KIND_", inc.kind);
  el.querySelector(".inc-status").textContent = label("status_", "", status);
  el.querySelector(".inc-verdict").textContent = verdict ? label("verdict_", "", verdict) : "";
  el.querySelector(".inc-active").textContent = view.active ? t("active") : "";
  const when = el.querySelector(".when");
  when.textContent = fmtTime(inc.start_time);
  when.dateTime = inc.start_time || "";
  const cand = state.candidates.get(inc.candidate_id);
  el.querySelector(".cand-name").textContent = cand?.snap.display_name || "";
  el.querySelector(".cand-id").textContent = inc.candidate_id || "";
  el.querySelector(".room").textContent = inc.room_id || "";
  const summary = inc.summary || {};
  el.querySelector(".summary").textContent = (language() === "zh" ? summary.zh || summary.en : summary.en || summary.zh)
    || "";
  const resolver = view.resolved_by?.display_name || view.resolved_by?.id || "";
  el.querySelector(".note").textContent = [view.note, resolver ? `${t("by")} ${resolver}` : ""]
    .filter(Boolean).join(" · ");
  const privileged = state.claims && ["chief_proctor", "staff"].includes(state.claims.role);
  el.querySelector('[data-action="ack"]').disabled = status !== "NEW";
  el.querySelector('[data-action="resolve"]').disabled = status === "RESOLVED" && !privileged;
  el.querySelector('[data-action="escalate"]').disabled = status === "RESOLVED" || status === "ESCALATED";
  if (verdict) el.querySelector(".verdict-select").value = verdict.toLowerCase();
  renderThumbs(el, inc);
}

function renderThumbs(el, inc) {
  const urls = (inc.evidence || []).map((e) => e.thumbnail_url).filter(Boolean).slice(0, 3);
  const box = el.querySelector(".thumbs");
  const signature = urls.join("\n");
  if (box.dataset.urls === signature) return;
  box.dataset.urls = signature;
  box.replaceChildren(...urls.map((url) => {
    const img = document.createElement("img");
    img.className = "thumb";
    img.alt = "";
    img.dataset.src = url;
    state.observer.observe(img);
    return img;
  }));
}

async function loadThumb(img, attempt = 0) {
  const url = img.dataset.src;
  if (!url || !state.api) return;
  const cached = state.thumbs.get(url);
  if (cached) { img.src = cached; return; }
  const generation = state.generation;
  try {
    const blob = await state.api.blob(url);
    if (generation !== state.generation) return;
    const objectUrl = URL.createObjectURL(blob);
    state.thumbs.set(url, objectUrl);
    img.src = objectUrl;
    img.classList.remove("missing");
  } catch (err) {
    img.classList.add("missing");
    img.title = err instanceof ApiError ? errorText(err.error) : "";
    if (err instanceof ApiError && err.status === 404 && attempt < 3) {
      setTimeout(() => loadThumb(img, attempt + 1), 4000);  // the worker may store it a little later
    }
  }
}

function matchesFilters(view) {
  const { kind, severity, status } = state.filters;
  const inc = view.incident;
  if (kind && short(inc.kind, "INCIDENT_KIND_") !== kind) return false;
  if (severity && SEVERITIES.indexOf(short(inc.severity, "SEVERITY_")) < SEVERITIES.indexOf(severity)) return false;
  const st = short(view.status, "INCIDENT_STATUS_");
  if (status === "OPEN") return st !== "RESOLVED";
  if (status && st !== status) return false;
  return true;
}

function applyFilters() {
  for (const entry of state.incidents.values()) entry.el.hidden = !matchesFilters(entry.view);
  updateCounts();
}

function updateCounts() {
  let shown = 0;
  for (const entry of state.incidents.values()) if (!entry.el.hidden) shown += 1;
  $("feed-counts").textContent = t("shown_of", shown, state.incidents.size);
  const counts = new Map();
  for (const { snap } of state.candidates.values()) {
    const key = candidateLabelKey(snap);
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  const parts = [];
  for (const [key, n] of counts) {
    const span = document.createElement("span");
    span.dataset.state = key;
    span.textContent = `${key === "OFFLINE" ? t("offline") : label("state_", "", key)}: ${n}`;
    parts.push(span);
  }
  $("state-counts").replaceChildren(...parts);
}

async function incidentAction(el, action) {
  const id = el.dataset.incidentId;
  const entry = state.incidents.get(id);
  if (!entry) return;
  const revision = entry.view.revision ? String(entry.view.revision) : undefined;
  const note = el.querySelector(".note-input").value.trim();
  const base = `/api/v1/incidents/${encodeURIComponent(id)}`;
  let request;
  if (action === "ack") request = state.api.post(`${base}/acknowledge`, { expected_revision: revision, note });
  else if (action === "resolve") {
    request = state.api.post(`${base}/resolve`, {
      verdict: el.querySelector(".verdict-select").value, note, expected_revision: revision });
  } else if (action === "escalate") {
    request = state.api.post(`${base}/escalate`, { target: "chief_proctor", reason: note, expected_revision: revision });
  } else if (action === "warn") {
    request = state.api.post(`/api/v1/candidates/${encodeURIComponent(entry.view.incident.candidate_id)}/notices`, {
      sitting_id: entry.view.incident.sitting_id, kind: "warning", preset: "keep_face_in_view", severity: "medium",
      related_incident_id: id, client_request_id: newId() });
  } else return;
  const buttons = el.querySelectorAll("button");
  buttons.forEach((b) => { b.dataset.wasDisabled = b.disabled ? "1" : ""; b.disabled = true; });
  try {
    const result = await request;
    if (result.incident) { queueIncident(result.incident); el.querySelector(".note-input").value = ""; }
    if (result.notice) toast(t("notice_sent"));
  } catch (err) {
    showError(err);
    if (err instanceof ApiError && err.reason === "REVISION_MISMATCH") refreshIncident(id);
  } finally {
    buttons.forEach((b) => { b.disabled = b.dataset.wasDisabled === "1"; });
    const current = state.incidents.get(id);
    if (current) renderIncident(current);
  }
}

async function refreshIncident(id) {
  try {
    const detail = await state.api.get(`/api/v1/incidents/${encodeURIComponent(id)}`);
    queueIncident(detail.view);
  } catch (err) {
    showError(err);
  }
}

// The incident log (resolved ones included): the feed's snapshot carries only unresolved ones.
async function loadIncidentLog(generation) {
  let pageToken = "";
  for (let page = 0; page < 50; page += 1) {
    const params = new URLSearchParams({ sitting: state.scope.sitting, page_size: "1000" });
    for (const room of state.scope.rooms) params.append("room", room);
    if (pageToken) params.set("page_token", pageToken);
    const response = await state.api.get("/api/v1/incidents", params);
    if (generation !== state.generation) return;
    for (const view of response.incidents || []) queueIncident(view);
    pageToken = response.next_page_token;
    if (!pageToken) return;
  }
}

// ------------------------------------------------------------------------------------------
// Candidates
// ------------------------------------------------------------------------------------------

function candidateLabelKey(snap) {
  const st = short(snap.state, "CANDIDATE_STATE_");
  return ONLINE_STATES.has(st) && !snap.desktop_online ? "OFFLINE" : st;
}

function applyCandidate(snap) {
  let entry = state.candidates.get(snap.candidate_id);
  const created = !entry;
  if (!entry) {
    const el = clone("candidate-tpl");
    el.dataset.candidateId = snap.candidate_id;
    entry = { snap, el };
    state.candidates.set(snap.candidate_id, entry);
    insertCandidate(entry);
  }
  const renamed = created || entry.snap.display_name !== snap.display_name;
  entry.snap = snap;
  renderCandidate(entry);
  if (renamed) {
    for (const id of state.byCandidate.get(snap.candidate_id) || []) {
      const inc = state.incidents.get(id);
      if (inc) inc.el.querySelector(".cand-name").textContent = snap.display_name || "";
    }
    const thread = state.threads.get(snap.candidate_id);
    if (thread) upsertThread(thread.summary, false);
  }
}

function candidateSortKey(snap) {
  return `${snap.room_id || ""}\u0000${snap.candidate_id}`;
}

function insertCandidate(entry) {
  const grid = $("candidate-grid");
  const key = candidateSortKey(entry.snap);
  const last = grid.lastElementChild;
  if (!last || candidateSortKey(state.candidates.get(last.dataset.candidateId).snap) <= key) {
    grid.append(entry.el);
    return;
  }
  for (const child of grid.children) {
    if (candidateSortKey(state.candidates.get(child.dataset.candidateId).snap) > key) {
      grid.insertBefore(entry.el, child);
      return;
    }
  }
  grid.append(entry.el);
}

function renderCandidate(entry) {
  const { snap, el } = entry;
  const st = short(snap.state, "CANDIDATE_STATE_");
  const offline = candidateLabelKey(snap) === "OFFLINE";
  el.className = `cand cs-${st}${offline ? " offline" : ""}`;
  el.dataset.state = st;
  el.dataset.offline = offline ? "1" : "";
  el.querySelector(".c-name").textContent = snap.display_name || snap.candidate_id;
  el.querySelector(".c-id").textContent = `${snap.candidate_id} · ${snap.room_id || ""}`;
  el.querySelector(".c-state").textContent = offline ? `${t("offline")} (${label("state_", "", st)})`
    : label("state_", "", st);
  el.querySelector(".dot.desk").classList.toggle("on", Boolean(snap.desktop_online));
  el.querySelector(".dot.phone").classList.toggle("on", Boolean(snap.phone_online));
  el.querySelector(".c-q").textContent = st === "IN_EXAM" && snap.question_count
    ? t("question", num(snap.current_question_index) + 1, num(snap.question_count)) : "";
  el.title = snap.candidate_id;
  markCandidateIncidents(snap.candidate_id);
}

function markCandidateIncidents(candidateId) {
  const entry = state.candidates.get(candidateId);
  if (!entry) return;
  let open = 0;
  for (const id of state.byCandidate.get(candidateId) || []) {
    if (short(state.incidents.get(id)?.view.status, "INCIDENT_STATUS_") !== "RESOLVED") open += 1;
  }
  entry.el.classList.toggle("has-incidents", open > 0);
  entry.el.querySelector(".c-inc").textContent = open ? t("incidents_count", open) : "";
}

// ------------------------------------------------------------------------------------------
// Help chat
// ------------------------------------------------------------------------------------------

function candidateName(candidateId) {
  return state.candidates.get(candidateId)?.snap.display_name || candidateId;
}

function upsertThread(summary, moveToTop) {
  const id = summary.candidate_id;
  let entry = state.threads.get(id);
  if (!entry) {
    const el = clone("thread-tpl");
    el.dataset.candidateId = id;
    entry = { summary, el };
    state.threads.set(id, entry);
    $("thread-list").append(entry.el);
  }
  entry.summary = { ...entry.summary, ...summary };
  const s = entry.summary;
  entry.el.querySelector(".t-name").textContent = `${candidateName(id)} · ${s.room_id || ""}`;
  const unanswered = num(s.unanswered);
  entry.el.querySelector(".t-unanswered").textContent = unanswered ? String(unanswered) : "";
  entry.el.dataset.unanswered = String(unanswered);
  entry.el.querySelector(".t-last").textContent = s.last_message?.text || "";
  entry.el.classList.toggle("selected", state.chat?.candidateId === id);
  if (moveToTop && $("thread-list").firstElementChild !== entry.el) $("thread-list").prepend(entry.el);
}

function applyHelp(update) {
  const message = update.message;
  if (!message?.candidate_id) return;
  const existing = state.threads.get(message.candidate_id)?.summary;
  upsertThread({
    candidate_id: message.candidate_id, thread_id: message.thread_id, room_id: message.room_id,
    sitting_id: message.sitting_id, unanswered: update.unanswered_in_thread ?? 0, last_message: message,
    message_count: num(existing?.message_count) + 1,
  }, true);
  if (state.chat && state.chat.candidateId === message.candidate_id) appendMessage(message);
}

function appendMessage(message) {
  if (!state.chat || state.chat.ids.has(message.message_id)) return;
  state.chat.ids.add(message.message_id);
  if (!state.chat.threadId && message.thread_id) state.chat.threadId = message.thread_id;
  const el = clone("message-tpl");
  const out = message.direction === "CHAT_DIRECTION_PROCTOR_TO_CANDIDATE";
  el.classList.add(out ? "out" : "in");
  el.dataset.messageId = message.message_id || "";
  el.querySelector(".m-author").textContent = message.author?.display_name
    || (out ? message.author?.id || t("proctor") : candidateName(message.candidate_id));
  el.querySelector(".m-time").textContent = fmtTime(message.sent_at);
  el.querySelector(".m-text").textContent = message.text || "";
  const list = $("chat-messages");
  list.append(el);
  list.scrollTop = list.scrollHeight;
}

async function openChat(candidateId) {
  const generation = state.generation;
  state.chat = { candidateId, threadId: state.threads.get(candidateId)?.summary.thread_id || "", ids: new Set() };
  for (const entry of state.threads.values()) entry.el.classList.toggle("selected", entry.el.dataset.candidateId === candidateId);
  $("chat").hidden = false;
  $("chat").dataset.candidateId = candidateId;
  $("chat-title").textContent = t("chat_with", candidateName(candidateId));
  $("chat-messages").replaceChildren();
  try {
    const params = new URLSearchParams({ sitting: state.scope.sitting });
    const response = await state.api.get(`/api/v1/help/threads/${encodeURIComponent(candidateId)}`, params);
    if (generation !== state.generation || state.chat?.candidateId !== candidateId) return;
    for (const message of response.messages || []) appendMessage(message);
  } catch (err) {
    showError(err);
  }
}

async function sendReply(event) {
  event.preventDefault();
  const input = $("reply-input");
  const text = input.value;
  if (!state.chat || !text.trim()) return;
  const { candidateId, threadId } = state.chat;
  $("reply-send").disabled = true;
  try {
    const result = await state.api.post(`/api/v1/help/threads/${encodeURIComponent(candidateId)}/reply`, {
      sitting_id: state.scope.sitting, thread_id: threadId, text, client_message_id: newId() });
    input.value = "";
    if (state.chat?.candidateId === candidateId) appendMessage(result.message);
    toast(t("reply_sent"));
  } catch (err) {
    showError(err);
  } finally {
    $("reply-send").disabled = false;
  }
}

async function loadThreads(generation) {
  const params = new URLSearchParams({ sitting: state.scope.sitting, page_size: "500" });
  for (const room of state.scope.rooms) params.append("room", room);
  const response = await state.api.get("/api/v1/help/threads", params);
  if (generation !== state.generation) return;
  // most recent activity first: append in order, later live updates move threads to the top
  for (const summary of response.threads || []) {
    const known = state.threads.get(summary.candidate_id);
    if (!known || timeOf(known.summary.last_message?.sent_at) <= timeOf(summary.last_message?.sent_at)) {
      upsertThread(summary, false);
    }
  }
}

// ------------------------------------------------------------------------------------------
// Feed
// ------------------------------------------------------------------------------------------

function onFeedEvent(name, data) {
  if (name === "incident") queueIncident(data.incident.incident);
  else if (name === "candidate") queueCandidate(data.candidate.candidate);
  else if (name === "help") { state.pending.help.push(data.help); schedule(); }
  else if (name === "snapshot_complete") document.body.dataset.snapshot = "complete";
}

function setConnection(status, error) {
  const el = $("conn");
  el.dataset.state = status;
  el.dataset.i18n = `conn_${status}`;
  el.textContent = t(`conn_${status}`);
  if (error) showError(error, "feed");
  else if (status === "live") hideError("feed");
  if (status === "error" && error?.status === 401) logout(errorText(error.error));
}

function clearScopeState() {
  state.generation += 1;
  state.incidents.clear();
  state.order = [];
  state.candidates.clear();
  state.byCandidate.clear();
  state.threads.clear();
  state.chat = null;
  state.pending = { incidents: new Map(), candidates: new Map(), help: [] };
  $("incident-list").replaceChildren();
  $("candidate-grid").replaceChildren();
  $("thread-list").replaceChildren();
  $("chat-messages").replaceChildren();
  $("chat").hidden = true;
  delete document.body.dataset.snapshot;
  updateCounts();
}

function loadLogs() {
  const generation = state.generation;
  loadIncidentLog(generation).catch(showError);
  loadThreads(generation).catch(showError);
}

function startFeed() {
  if (state.feed) state.feed.stop();
  clearScopeState();
  if (!state.scope.sitting) { showError(t("sitting_required")); return; }
  state.feed = new Feed(state.api, state.scope, {
    onEvent: onFeedEvent, onStatus: setConnection,
    onRestart: () => { clearScopeState(); loadLogs(); },
  });
  state.feed.run();
  loadLogs();
}

// ------------------------------------------------------------------------------------------
// Messages, login, language
// ------------------------------------------------------------------------------------------

let shownError = null;  // re-rendered in the other language on a language switch
function showError(err, source = "") {
  const banner = $("error-banner");
  shownError = { err, source };
  banner.dataset.source = source;
  banner.textContent = typeof err === "string" ? err : err instanceof ApiError ? errorText(err.error)
    : String(err?.message || err);
  banner.dataset.reason = err instanceof ApiError ? err.reason : "";
  banner.hidden = false;
}

// Hide the banner if it shows an error of ``source`` (a feed reconnect does not hide an action's error).
function hideError(source) {
  const banner = $("error-banner");
  if (banner.dataset.source === source) banner.hidden = true;
}

let toastTimer = 0;
function toast(text) {
  const el = $("toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 2500);
}

function fillSelect(select, entries) {
  select.replaceChildren(...entries.map(([value, text]) => {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = text;
    return option;
  }));
}

function fillFilters() {
  const keep = { ...state.filters };
  fillSelect($("filter-kind"), [["", t("all")], ...KINDS.map((k) => [k, t("kind_" + k)])]);
  fillSelect($("filter-severity"), [["", t("all")], ...SEVERITIES.map((s) => [s, t("sev_" + s)])]);
  fillSelect($("filter-status"), [["", t("all")], ["OPEN", t("open")],
    ...STATUSES.map((s) => [s, t("status_" + s)])]);
  $("filter-kind").value = keep.kind;
  $("filter-severity").value = keep.severity;
  $("filter-status").value = keep.status;
}

function applyLanguage(lang) {
  setLanguage(lang);
  localStorage.setItem(LANG_KEY, language());
  translateStatic(document);
  $("lang-toggle").textContent = language() === "zh" ? "English" : "中文";
  $("lang-toggle").lang = language() === "zh" ? "en" : "zh-CN";
  document.title = `${t("title")} · ${language() === "zh" ? "Proctor console" : "监考控制台"}`;
  fillFilters();
  for (const entry of state.incidents.values()) renderIncident(entry);
  for (const entry of state.candidates.values()) renderCandidate(entry);
  for (const entry of state.threads.values()) upsertThread(entry.summary, false);
  if (state.chat) $("chat-title").textContent = t("chat_with", candidateName(state.chat.candidateId));
  if (shownError && !$("error-banner").hidden) showError(shownError.err, shownError.source);
  updateCounts();
}

function showConsole(token) {
  state.api = new Api(token);
  state.claims = claimsOf(token);
  const who = state.claims ? `${state.claims.sub} (${state.claims.role})` : "";
  $("who").textContent = who;
  let saved = null;
  try { saved = JSON.parse(sessionStorage.getItem(SCOPE_KEY) || "null"); } catch { saved = null; }
  const sitting = saved?.sitting ?? state.claims?.sitting_id ?? "";
  const rooms = saved?.rooms ?? (Array.isArray(state.claims?.rooms) ? state.claims.rooms : []);
  $("sitting-input").value = sitting;
  $("rooms-input").value = rooms.join(",");
  state.scope = { sitting, rooms };
  $("login-view").hidden = true;
  $("console-view").hidden = false;
  $("logout").hidden = false;
  startFeed();
}

function logout(message) {
  if (state.feed) state.feed.stop();
  state.feed = null;
  clearScopeState();
  for (const url of state.thumbs.values()) URL.revokeObjectURL(url);
  state.thumbs.clear();
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(SCOPE_KEY);
  state.api = null;
  state.claims = null;
  $("who").textContent = "";
  $("console-view").hidden = true;
  $("logout").hidden = true;
  $("login-view").hidden = false;
  $("login-error").textContent = message || "";
  setConnection("off");
}

function onLogin(event) {
  event.preventDefault();
  const token = $("token-input").value.trim();
  if (!token) { $("login-error").textContent = t("token_missing"); return; }
  if (!claimsOf(token)) { $("login-error").textContent = t("token_malformed"); return; }
  $("token-input").value = "";
  $("login-error").textContent = "";
  sessionStorage.setItem(TOKEN_KEY, token);
  showConsole(token);
}

function onScope(event) {
  event.preventDefault();
  const sitting = $("sitting-input").value.trim();
  const rooms = $("rooms-input").value.split(",").map((r) => r.trim()).filter(Boolean);
  state.scope = { sitting, rooms };
  sessionStorage.setItem(SCOPE_KEY, JSON.stringify(state.scope));
  startFeed();
}

function onFilter() {
  state.filters = { kind: $("filter-kind").value, severity: $("filter-severity").value,
    status: $("filter-status").value };
  applyFilters();
}

function init() {
  state.observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      state.observer.unobserve(entry.target);
      loadThumb(entry.target);
    }
  }, { rootMargin: "200px" });
  applyLanguage(localStorage.getItem(LANG_KEY) || "zh");
  $("lang-toggle").addEventListener("click", () => applyLanguage(language() === "zh" ? "en" : "zh"));
  $("login-form").addEventListener("submit", onLogin);
  $("logout").addEventListener("click", () => logout(""));
  $("scope-form").addEventListener("submit", onScope);
  for (const id of ["filter-kind", "filter-severity", "filter-status"]) $(id).addEventListener("change", onFilter);
  $("incident-list").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button) incidentAction(button.closest("li.incident"), button.dataset.action);
  });
  const openFrom = (event, selector) => {
    const el = event.target.closest(selector);
    if (el) openChat(el.dataset.candidateId);
  };
  $("thread-list").addEventListener("click", (event) => openFrom(event, "li.thread"));
  $("candidate-grid").addEventListener("click", (event) => openFrom(event, ".cand"));
  for (const [id, selector] of [["thread-list", "li.thread"], ["candidate-grid", ".cand"]]) {
    $(id).addEventListener("keydown", (event) => { if (event.key === "Enter") openFrom(event, selector); });
  }
  $("reply-form").addEventListener("submit", sendReply);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) showConsole(token);
}

init();

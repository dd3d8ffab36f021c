// The console's HTTP API: JSON calls with the proctor token in the Authorization header, and the
// live feed read as server-sent events through fetch() (EventSource cannot send headers).

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message_en || `HTTP ${status}`);
    this.status = status;
    this.error = error || { code: "HTTP_" + status, reason: "HTTP_" + status, message_en: `HTTP ${status}`,
      message_zh: `HTTP ${status}` };
  }
  get reason() { return this.error.reason; }
}

async function errorOf(response) {
  try {
    const body = await response.json();
    return new ApiError(response.status, body.error);
  } catch {
    return new ApiError(response.status, null);
  }
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  headers(extra) {
    return { Authorization: "Bearer " + this.token, ...extra };
  }

  async get(path, params) {
    const url = params ? `${path}?${params}` : path;
    const response = await fetch(url, { headers: this.headers({ Accept: "application/json" }), cache: "no-store" });
    if (!response.ok) throw await errorOf(response);
    return response.json();
  }

  async post(path, body) {
    const response = await fetch(path, {
      method: "POST", cache: "no-store",
      headers: this.headers({ "Content-Type": "application/json", Accept: "application/json" }),
      body: JSON.stringify(body),
    });
    if (!response.ok) throw await errorOf(response);
    return response.json();
  }

  async blob(path) {
    const response = await fetch(path, { headers: this.headers({}), cache: "no-store" });
    if (!response.ok) throw await errorOf(response);
    return response.blob();
  }
}

// Parse a text/event-stream body into {event, data, id} objects.
async function* readEvents(body, signal) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    while (!signal.aborted) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = { event: "message", data: "", id: "" };
        let hasData = false;
        for (const line of block.split("\n")) {
          if (!line || line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") event.event = value;
          else if (field === "data") { event.data += (hasData ? "\n" : "") + value; hasData = true; }
          else if (field === "id") event.id = value;
        }
        if (hasData) yield event;
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

const RESTART_REASONS = new Set(["CURSOR_EXPIRED", "CURSOR_INVALID", "CURSOR_FROM_FUTURE"]);
const FATAL_STATUS = new Set([400, 401, 403, 404]);

// The live feed with resume: the last cursor is passed back after a reconnect, so exactly the
// missed items arrive; a cursor the server no longer accepts restarts from a snapshot.
export class Feed {
  constructor(api, scope, handlers) {
    this.api = api;
    this.scope = scope;            // {sitting, rooms: []}
    this.handlers = handlers;      // {onEvent(name, data), onStatus(state, error), onRestart()}
    this.cursor = "";
    this.controller = new AbortController();
    this.stopped = false;
  }

  stop() {
    this.stopped = true;
    this.controller.abort();
  }

  url() {
    const params = new URLSearchParams({ sitting: this.scope.sitting });
    for (const room of this.scope.rooms) params.append("room", room);
    if (this.cursor) params.set("cursor", this.cursor);
    else params.set("start", "snapshot");
    return "/api/v1/feed?" + params;
  }

  async run() {
    let delay = 250;
    while (!this.stopped) {
      this.handlers.onStatus(this.cursor ? "reconnecting" : "connecting");
      let failure = null;
      try {
        const response = await fetch(this.url(), {
          headers: this.api.headers({ Accept: "text/event-stream" }), cache: "no-store",
          signal: this.controller.signal,
        });
        if (!response.ok) {
          failure = await errorOf(response);
        } else {
          this.handlers.onStatus("live");
          delay = 250;
          for await (const message of readEvents(response.body, this.controller.signal)) {
            const data = JSON.parse(message.data);
            if (message.event === "error") {
              failure = new ApiError(data.error.http_status || 503, data.error);
              break;
            }
            this.handlers.onEvent(message.event, data);
            if (message.id) this.cursor = message.id;
          }
        }
      } catch (err) {
        if (this.stopped) return;
        failure = err instanceof ApiError ? err : null;
      }
      if (this.stopped) return;
      if (failure && RESTART_REASONS.has(failure.reason)) {
        this.cursor = "";
        this.handlers.onRestart();
        continue;
      }
      if (failure && FATAL_STATUS.has(failure.status)) {
        this.handlers.onStatus("error", failure);
        return;
      }
      this.handlers.onStatus("reconnecting", failure);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 8000);
    }
  }
}

export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// The claims of a pt1 token, for display and defaults only: the server verifies the token.
export function claimsOf(token) {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== "pt1") return null;
  try {
    const b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = b64 + "=".repeat((4 - (b64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

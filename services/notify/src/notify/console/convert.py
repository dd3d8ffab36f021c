"""protobuf <-> JSON for the console's HTTP API.

Out: ``MessageToDict`` with the proto field names (snake_case), enum values by name, 64-bit
integers as strings, timestamps in RFC 3339. Object-storage URIs never reach the browser: each
evidence thumbnail becomes a console URL naming the incident and the evidence index.
In: strict readers for JSON bodies and query strings; anything malformed is a 400 with the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from aiohttp import web
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from notify.console.errors import bad_request
from proctor.notify.v1 import notify_pb2

MAX_ID_CHARS = 128
MAX_LIST_ITEMS = 256
MAX_NOTE_CHARS = 4000
MAX_TEXT_CHARS = 8000  # the server enforces its own, smaller limits with precise reasons


def message_json(message: Message) -> dict[str, Any]:
    return MessageToDict(message, preserving_proto_field_name=True)


def thumbnail_path(incident_id: str, index: int) -> str:
    return f"/api/v1/incidents/{quote(incident_id, safe='')}/evidence/{index}/thumbnail"


def view_json(view: notify_pb2.IncidentView) -> dict[str, Any]:
    data = message_json(view)
    incident = data.get("incident", {})
    incident_id = incident.get("incident_id", "")
    for index, evidence in enumerate(incident.get("evidence", [])):
        uri = evidence.pop("thumbnail_uri", "")
        evidence.pop("playlist_uri", None)
        if uri:
            evidence["thumbnail_url"] = thumbnail_path(incident_id, index)
    return data


def detail_json(detail: notify_pb2.IncidentDetail) -> dict[str, Any]:
    return {"view": view_json(detail.view), "history": [message_json(a) for a in detail.history]}


def list_json(response: notify_pb2.ListIncidentsResponse) -> dict[str, Any]:
    return {"incidents": [view_json(v) for v in response.incidents],
            "next_page_token": response.next_page_token, "total_size": str(response.total_size)}


def feed_event(item: notify_pb2.ProctorFeedItem) -> tuple[str, dict[str, Any]]:
    """(SSE event name, data) of one feed item; the event name is the item's oneof field."""
    which = item.WhichOneof("item") or "unknown"
    data: dict[str, Any] = {"cursor": item.cursor, "sequence": str(item.sequence)}
    if item.HasField("appended_at"):
        data["appended_at"] = item.appended_at.ToJsonString()
    if which == "incident":
        payload = message_json(item.incident)
        payload["incident"] = view_json(item.incident.incident)
        data["incident"] = payload
    elif which != "unknown":
        data[which] = message_json(getattr(item, which))
    return which, data


def sse_frame(event: str, data: Mapping[str, Any], event_id: str = "") -> bytes:
    """One server-sent event. JSON has no raw newlines, so ``data`` is a single line; the id (a
    cursor) is checked for line breaks because a cursor is opaque to the console."""
    lines = []
    if event_id and "\n" not in event_id and "\r" not in event_id:
        lines.append(f"id: {event_id}")
    lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return ("\n".join(lines) + "\n\n").encode()


# ---------------------------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------------------------

def enum_value(enum: EnumTypeWrapper, prefix: str, text: str, field: str) -> Any:
    """``false_alarm``, ``FALSE_ALARM`` or ``VERDICT_FALSE_ALARM`` -> the enum number; never UNSPECIFIED.
    (Typed Any: each generated enum's value type is its own NewType of int.)"""
    name = text.strip().upper()
    if not name.startswith(prefix):
        name = prefix + name
    if name == prefix + "UNSPECIFIED" or name not in enum.DESCRIPTOR.values_by_name:
        raise bad_request("INVALID_VALUE", f"{field}: unknown value {text[:40]!r}",
                          f"{field} 的取值无效", field)
    return enum.Value(name)


async def read_json(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise bad_request("JSON_REQUIRED", "send a JSON object (Content-Type: application/json)",
                          "请求体须为 JSON 对象")
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise bad_request("JSON_INVALID", "the request body is not valid JSON", "请求体不是有效的 JSON") from None
    if not isinstance(body, dict):
        raise bad_request("JSON_INVALID", "the request body must be a JSON object", "请求体须为 JSON 对象")
    return body


def body_str(body: Mapping[str, Any], field: str, max_chars: int = MAX_ID_CHARS, required: bool = False) -> str:
    value = body.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise bad_request("INVALID_VALUE", f"{field} must be a string", f"{field} 须为字符串", field)
    if required and not value.strip():
        raise bad_request("FIELD_REQUIRED", f"{field} is required", f"缺少 {field}", field)
    if len(value) > max_chars:
        raise bad_request("FIELD_TOO_LONG", f"{field} is longer than {max_chars} characters",
                          f"{field} 超过 {max_chars} 个字符", field)
    return value


def body_revision(body: Mapping[str, Any]) -> int | None:
    value = body.get("expected_revision")
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise bad_request("INVALID_VALUE", "expected_revision must be an unsigned integer",
                          "expected_revision 须为非负整数", "expected_revision")
    text = str(value)
    if not text.isdigit() or len(text) > 20 or int(text) >= 2**64:
        raise bad_request("INVALID_VALUE", "expected_revision must be an unsigned integer",
                          "expected_revision 须为非负整数", "expected_revision")
    return int(text)


def query_str(request: web.Request, field: str, required: bool = False) -> str:
    value = request.query.get(field, "")
    if required and not value:
        raise bad_request("FIELD_REQUIRED", f"query parameter {field} is required", f"缺少查询参数 {field}", field)
    if len(value) > 1024:
        raise bad_request("FIELD_TOO_LONG", f"{field} is too long", f"{field} 过长", field)
    return value


def query_list(request: web.Request, field: str) -> list[str]:
    """Repeated (``room=a&room=b``) or comma-separated (``room=a,b``) values, blanks dropped."""
    values = [part.strip() for raw in request.query.getall(field, []) for part in raw.split(",")]
    values = [v for v in values if v]
    if len(values) > MAX_LIST_ITEMS or any(len(v) > MAX_ID_CHARS for v in values):
        raise bad_request("FILTER_TOO_LARGE", f"too many or too long values for {field}",
                          f"{field} 的取值过多或过长", field)
    return values


def query_enums(request: web.Request, field: str, enum: EnumTypeWrapper, prefix: str) -> list[Any]:
    return [enum_value(enum, prefix, v, field) for v in query_list(request, field)]


def query_uint(request: web.Request, field: str, default: int, maximum: int) -> int:
    text = request.query.get(field, "")
    if not text:
        return default
    if not text.isdigit() or len(text) > 9:
        raise bad_request("INVALID_VALUE", f"{field} must be an unsigned integer", f"{field} 须为非负整数", field)
    return min(int(text), maximum)


def query_bool(request: web.Request, field: str) -> bool:
    return request.query.get(field, "").lower() in ("1", "true", "yes")

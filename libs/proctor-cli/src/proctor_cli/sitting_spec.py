"""Sitting specs in YAML or JSON -> ``proctor.exam.v1.Sitting``.

```yaml
sitting_id: written-2026-12
name: 2026 national written exam
kind: formal            # formal | mock
time_zone: Asia/Shanghai
timeline:
  start: 2026-12-01T10:00:00+08:00   # absolute, with an offset (a naive time is read in time_zone)
  duration: 90m                      # -> end
  # optional, absolute or relative to start ("-30m", "+30m", "45s", "1h"): defaults from the seed
  login_opens: -30m
  waiting_room_opens: -10m
  last_entry: +30m
  upload_deadline: +60m              # relative to the END
questions:
  - {id: q1, type: single_choice, options: [A, B, C, D], content: bank://q1}
  - {id: q2, type: essay, content: bank://q2, max_answer_bytes: 20000}
policy: {attempt_limit: 3, require_phone: true, require_room_scan: true, abandon_grace: 90s}
```
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from proctor.common.v1 import common_pb2
from proctor.exam.v1 import exam_session_pb2 as pb
from proctor_runtime.events import ts

_DURATION = re.compile(r"^([+-]?)(\d+(?:\.\d+)?)(ms|s|m|h|d)$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
DEFAULT_OFFSETS = {"login_opens": "-30m", "waiting_room_opens": "-10m", "last_entry": "+30m"}
TYPES = {"single_choice": pb.QUESTION_TYPE_SINGLE_CHOICE, "multiple_choice": pb.QUESTION_TYPE_MULTIPLE_CHOICE,
         "fill_in": pb.QUESTION_TYPE_FILL_IN, "essay": pb.QUESTION_TYPE_ESSAY}


class SpecError(ValueError):
    """The spec file is wrong; the message names the field."""


def duration(value: str | float | int, field: str) -> timedelta:
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value).strip())
    if not match:
        raise SpecError(f"{field}: {value!r} is not a duration like 30m, -10m, 45s, 1h")
    sign = -1 if match.group(1) == "-" else 1
    return timedelta(seconds=sign * float(match.group(2)) * _UNITS[match.group(3)])


def _time(value: Any, tz: ZoneInfo, field: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise SpecError(f"{field}: {value!r} is not an ISO 8601 time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def load(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise SpecError(f"{path}: the spec must be a mapping")
    return data


def to_proto(data: dict[str, Any]) -> pb.Sitting:
    try:
        tz = ZoneInfo(str(data.get("time_zone", "Asia/Shanghai")))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SpecError(f"time_zone: unknown zone {data.get('time_zone')!r}") from exc
    kind = str(data.get("kind", "formal")).lower()
    if kind not in ("formal", "mock"):
        raise SpecError("kind: must be formal or mock")
    out = pb.Sitting(sitting_id=str(data.get("sitting_id", "")), name=str(data.get("name", "")),
                     time_zone=tz.key, kind=common_pb2.SITTING_KIND_MOCK if kind == "mock"
                     else common_pb2.SITTING_KIND_FORMAL)
    timeline = data.get("timeline") or {}
    if "start" not in timeline:
        raise SpecError("timeline.start is required")
    start = _time(timeline["start"], tz, "timeline.start")
    if "end" in timeline:
        end = _time(timeline["end"], tz, "timeline.end")
    elif "duration" in timeline:
        end = start + duration(timeline["duration"], "timeline.duration")
    else:
        raise SpecError("timeline: give end or duration")
    times = {"start": start, "end": end}
    for name, default in DEFAULT_OFFSETS.items():
        value = timeline.get(name, default)
        times[name] = (start + duration(value, f"timeline.{name}")
                       if _DURATION.match(str(value).strip()) else _time(value, tz, f"timeline.{name}"))
    deadline = timeline.get("upload_deadline", "+60m")
    times["upload_deadline"] = (end + duration(deadline, "timeline.upload_deadline")
                                if _DURATION.match(str(deadline).strip())
                                else _time(deadline, tz, "timeline.upload_deadline"))
    for name, moment in times.items():
        getattr(out.timeline, name).CopyFrom(ts(moment))
    for i, q in enumerate(data.get("questions") or []):
        qtype = TYPES.get(str(q.get("type", "")).lower())
        if qtype is None:
            raise SpecError(f"questions[{i}].type: one of {', '.join(TYPES)}")
        out.questions.add(question_id=str(q.get("id", "")), type=qtype, content_ref=str(q.get("content", "")),
                          option_ids=[str(o) for o in q.get("options", [])],
                          blank_count=int(q.get("blanks", 0)), max_answer_bytes=int(q.get("max_answer_bytes", 0)))
    _policy(out.policy, data.get("policy") or {})
    return out


def _policy(out: pb.SittingPolicy, policy: dict[str, Any]) -> None:
    for key in ("attempt_limit", "max_answer_bytes"):
        if key in policy:
            setattr(out, key, int(policy[key]))
    out.require_phone = bool(policy.get("require_phone", True))
    out.require_room_scan = bool(policy.get("require_room_scan", True))
    for key in ("attempt_duration", "heartbeat_interval", "abandon_grace", "clock_skew_tolerance",
                "bind_code_validity"):
        if key in policy:
            getattr(out, key).FromTimedelta(duration(policy[key], f"policy.{key}"))

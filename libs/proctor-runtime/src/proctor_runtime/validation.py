"""Checks every request gets before its handler runs (called by the shared interceptor).

- Timestamps and durations outside the range protobuf defines (years 0001-9999; nanos within a
  second, with the sign of the seconds) cannot be converted to ``datetime``/``timedelta``: the
  conversion raises deep inside a handler.
- Strings with NUL (U+0000) cannot be stored in PostgreSQL text columns and have no meaning in any
  id, name or text of the contract.

Both are the caller's mistake: INVALID_ARGUMENT FIELD_INVALID with the field path.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from proctor_runtime.errors import InvalidArgument

MIN_SECONDS, MAX_SECONDS = -62_135_596_800, 253_402_300_799  # 0001-01-01 .. 9999-12-31T23:59:59
MAX_DURATION_SECONDS = 315_576_000_000  # 10,000 years
NANOS = 1_000_000_000
_STRING = FieldDescriptor.TYPE_STRING


def _time_ok(full_name: str, value: Any) -> bool | None:
    """Whether a well-known time value is valid; None for other messages."""
    if full_name == "google.protobuf.Timestamp":
        return MIN_SECONDS <= value.seconds <= MAX_SECONDS and 0 <= value.nanos < NANOS
    if full_name == "google.protobuf.Duration":
        signs_agree = value.seconds == 0 or value.nanos == 0 or (value.seconds > 0) == (value.nanos > 0)
        return abs(value.seconds) <= MAX_DURATION_SECONDS and abs(value.nanos) < NANOS and signs_agree
    return None


@functools.cache
def _is_map(field: FieldDescriptor) -> bool:
    """Whether ``field`` is a map (asked for every field of every request: cached per descriptor)."""
    return field.message_type is not None and bool(field.message_type.GetOptions().map_entry)


def _values(field: FieldDescriptor, value: Any, path: str) -> Iterable[tuple[str, Any, FieldDescriptor]]:
    """(path, value, the value's field) for each value of a plain, repeated or map field; map keys too."""
    if _is_map(field):
        key_field, value_field = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        for key, item in value.items():
            yield f"{path}[key]", key, key_field
            yield f"{path}[{key!r}]", item, value_field
    elif field.is_repeated:
        yield from ((f"{path}[{i}]", item, field) for i, item in enumerate(value))
    else:
        yield path, value, field


def invalid_field(msg: Message, prefix: str = "") -> tuple[str, str] | None:
    """(path, what is wrong) of the first out-of-range time or NUL-carrying string in ``msg``."""
    for field, value in msg.ListFields():
        for path, item, of in _values(field, value, f"{prefix}{field.name}"):
            if of.type == _STRING and "\x00" in item:
                return path, "contains a NUL character"
            if of.message_type is None:
                continue
            ok = _time_ok(item.DESCRIPTOR.full_name, item)
            if ok is False:
                return path, "is not a valid time (years 0001-9999) or duration"
            if ok is None and (found := invalid_field(item, f"{path}.")):
                return found
    return None


def check_request(msg: Any) -> None:
    if not isinstance(msg, Message):
        return
    found = invalid_field(msg)
    if found is not None:
        path, why = found
        raise InvalidArgument("FIELD_INVALID", f"{path} {why}", f"字段 {path} 无效（时间越界或含空字符）",
                              {"field": path})

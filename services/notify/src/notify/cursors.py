"""Opaque resume cursors: a position in one sitting's proctor feed or one candidate's notices.

A cursor names its feed, so one from another sitting (or candidate) is refused rather than
silently mis-positioned. It is not secret: it grants nothing, scopes are checked on every read.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from proctor_runtime.errors import InvalidArgument, OutOfRange

VERSION = "c1"


@dataclass(frozen=True)
class Position:
    feed: str  # "s:<sitting>" (proctor feed) or "n:<sitting>:<candidate>" (candidate notices)
    seq: int


def proctor_feed(sitting_id: str) -> str:
    return f"s:{sitting_id}"


def notice_feed(sitting_id: str, candidate_id: str) -> str:
    return f"n:{sitting_id}:{candidate_id}"


def encode(feed: str, seq: int) -> str:
    return base64.urlsafe_b64encode(f"{VERSION}|{feed}|{seq}".encode()).decode().rstrip("=")


def invalid(why: str) -> InvalidArgument:
    return InvalidArgument("CURSOR_INVALID", f"the resume cursor is not valid: {why}", "续传游标无效")


def decode(cursor: str, expected_feed: str, head: int, first_retained: int = 0) -> int:
    """The sequence the cursor names; refused if malformed, for another feed, beyond ``head``, or
    older than the retained part of the feed (``first_retained``: its oldest stored sequence)."""
    if len(cursor) > 512:
        raise invalid("too long")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, feed, raw_seq = text.rsplit("|", 2) if text.count("|") >= 2 else ("", "", "")
        seq = int(raw_seq)
    except (ValueError, UnicodeDecodeError):
        raise invalid("malformed") from None
    if version != VERSION or seq < 0:
        raise invalid("malformed")
    if feed != expected_feed:
        raise invalid("it belongs to another sitting or candidate")
    if seq > head:
        raise OutOfRange("CURSOR_FROM_FUTURE", "the resume cursor is ahead of the feed",
                         "续传游标超出当前进度", {"head": str(head)})
    if first_retained and seq < first_retained - 1:
        raise OutOfRange("CURSOR_EXPIRED", "the resume cursor is older than the feed's retention; subscribe again "
                         "with a snapshot", "续传游标已过期，请重新订阅", {"first_retained": str(first_retained)})
    return seq

"""Small HTML helpers of the report pages: every piece of text from the data goes through ``esc``;
links are made only for schemes a browser can open from a local file (``file``, ``http``, ``https``)
and for the report's own relative files."""

from __future__ import annotations

import html
from datetime import UTC, datetime, tzinfo
from importlib import resources
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from google.protobuf.timestamp_pb2 import Timestamp

from proctor_cli.report.model import when

LINK_SCHEMES = {"file", "http", "https"}


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name or "Asia/Shanghai")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def moment(value: datetime | None, tz: tzinfo) -> str:
    if value is None:
        return "—"
    local = value.astimezone(tz)
    millis = f".{local.microsecond // 1000:03d}" if local.microsecond else ""
    return local.strftime("%Y-%m-%d %H:%M:%S") + millis


def stamp(value: Timestamp, tz: tzinfo) -> str:
    return moment(when(value), tz)


def offset(value: float) -> str:
    """A recording offset as H:MM:SS.mmm."""
    millis = round(value * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def linkable(uri: str) -> bool:
    return urlparse(uri).scheme.lower() in LINK_SCHEMES


def link(href: str, text: str, cls: str = "") -> str:
    """``<a>`` for a linkable absolute URI or a relative report path; plain escaped text otherwise."""
    parsed = urlparse(href)
    if parsed.scheme and parsed.scheme.lower() not in LINK_SCHEMES:
        return f"<code>{esc(text)}</code>"
    attr = f' class="{esc(cls)}"' if cls else ""
    return f'<a href="{esc(href)}"{attr}>{esc(text)}</a>'


def css() -> str:
    return resources.files("proctor_cli.report").joinpath("report.css").read_text(encoding="utf-8")


def page(title: str, body: str) -> str:
    return ("<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{esc(title)}</title>\n<style>\n{css()}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def facts(rows: list[tuple[str, str]]) -> str:
    """A definition list; values are HTML already (callers escape)."""
    return "<dl class=\"facts\">" + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def table(head: list[str], rows: list[list[str]], cls: str = "", numeric: set[int] | None = None) -> str:
    """A table; header labels are escaped here, cells are HTML already (callers escape)."""
    numeric = numeric or set()
    attr = f' class="{esc(cls)}"' if cls else ""

    def cell(tag: str, i: int, content: str) -> str:
        return f'<{tag} class="num">{content}</{tag}>' if i in numeric else f"<{tag}>{content}</{tag}>"

    th = "".join(cell("th", i, esc(h)) for i, h in enumerate(head))
    body = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table{attr}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"

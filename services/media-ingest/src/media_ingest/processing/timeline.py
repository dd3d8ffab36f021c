"""The stream timeline and the stitched HLS playlist of a stream's review recording.

``stream_offset`` (decision). A stream has one timeline whose zero is the stream's *anchor*: the
capture start the client declared at OpenStream (``streams.client_start_time``; if it declared
none, the server's ``opened_at``; if media-ingest has no row for the stream, the first processed
segment's ``client_start_time - segment_index * its duration``). The anchor is fixed the first
time the worker needs it and stored, so it never moves. For a segment,

    stream_offset = media_start_time - anchor   (clamped at zero)

where ``media_start_time`` is the client's capture time of the segment's first frame. It depends
only on the segment's own capture time, never on which other segments have arrived, so segments
that arrive out of order after a network loss get their final offset at once; gaps in the capture
(a client restart) stay gaps on the timeline. The normalised segment's timestamps start at its
stream_offset (see ``normalise``), so a player's position in the stitched playlist *is* the
stream offset, and ``Evidence.start_offset = captured_at - anchor``.

Playlist (decision). One HLS media playlist per stream (version 7, fMP4), ``EVENT`` type while the
stream is open, regenerated whenever a segment is processed; ``#EXT-X-ENDLIST`` is appended once
the stream is verified and every segment of it has been processed. Segments are listed in index
order. Because an EVENT playlist may only grow at its end, an open stream's playlist lists the
contiguous prefix 0..n-1 of processed segments (a segment that arrived early appears once the
ones before it are processed). Each normalised segment is a self-contained fragmented MP4; the
playlist addresses its init section with ``#EXT-X-MAP`` + BYTERANGE and its fragments with
``#EXT-X-BYTERANGE``, so one object per segment serves both anomaly (opens the file) and HLS
players. ``#EXT-X-PROGRAM-DATE-TIME`` (anchor + offset) maps every segment to capture wall-clock
time; ``#EXT-X-DISCONTINUITY`` precedes a segment whose encoding differs from the previous one
(codec, resolution, tracks). Segments that could not be used (probe not ok) are left out: their
time shows as a hole in the timeline, their flags are in the events and the database. A segment
that starts well before the previous one ended (the client's clock stepped back) also gets a
discontinuity: timestamps going backwards are exactly what it announces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Entry:
    """A processed segment as the playlist sees it."""

    index: int
    ok: bool
    offset_s: float = 0.0
    duration_s: float = 0.0
    uri: str = ""  # relative to the playlist
    init_size: int = 0
    size: int = 0
    encoding: str = ""  # codecs + resolution + tracks: a change needs a discontinuity


def stream_offset(anchor: datetime, media_start: datetime) -> timedelta:
    return max(timedelta(0), media_start - anchor)


def estimated_anchor(client_start: datetime, segment_index: int, duration_s: float) -> datetime:
    """The anchor when nothing was declared: where segment 0 would have started."""
    return client_start - timedelta(seconds=segment_index * duration_s)


def listed(entries: list[Entry], final: bool) -> list[Entry]:
    """The segments the playlist may contain now, in index order: all of them once the stream is
    final, else the contiguous prefix 0..n-1 (an EVENT playlist only ever grows at its end)."""
    ordered = sorted(entries, key=lambda e: e.index)
    if final:
        return ordered
    prefix = []
    for expected, entry in enumerate(ordered):
        if entry.index != expected:
            break
        prefix.append(entry)
    return prefix


def render(entries: list[Entry], anchor: datetime, final: bool, target_duration_s: int,
           overlap_tolerance_s: float = 0.5) -> str:
    """The playlist text for ``entries`` (already chosen by ``listed``)."""
    playable = [e for e in entries if e.ok and e.size > e.init_size > 0]
    target = max([target_duration_s, *(math.ceil(e.duration_s) for e in playable)])
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", f"#EXT-X-TARGETDURATION:{target}", "#EXT-X-MEDIA-SEQUENCE:0",
             "#EXT-X-DISCONTINUITY-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:EVENT"]
    previous: Entry | None = None
    for entry in playable:
        backwards = previous is not None and (
            entry.offset_s < previous.offset_s + previous.duration_s - overlap_tolerance_s)  # client clock stepped back
        if previous is not None and (entry.encoding != previous.encoding or backwards):
            lines.append("#EXT-X-DISCONTINUITY")
        lines += [f"#EXT-X-PROGRAM-DATE-TIME:{_iso(anchor + timedelta(seconds=entry.offset_s))}",
                  f'#EXT-X-MAP:URI="{entry.uri}",BYTERANGE="{entry.init_size}@0"',
                  f"#EXTINF:{entry.duration_s:.6f},",
                  f"#EXT-X-BYTERANGE:{entry.size - entry.init_size}@{entry.init_size}",
                  entry.uri]
        previous = entry
    if final:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

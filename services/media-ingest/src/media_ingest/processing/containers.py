"""Cheap structural checks of the two container families the clients send, without decoding.

ffmpeg's demuxers read a cut-off segment silently up to the cut (a fragmented MP4 cut inside its
last ``mdat``, a WebM cut inside its last cluster), so truncation is detected here, by walking the
top-level MP4 boxes and the EBML elements: an element whose declared size runs past the end of
the file means the file was cut short. Also: where the init section (``ftyp`` + ``moov``) of a
normalised fragmented MP4 ends, for the playlist's byte ranges.
"""

from __future__ import annotations

import struct
from pathlib import Path

MKV_SEGMENT = 0x18538067
MKV_CLUSTER = 0x1F43B675
MKV_EBML = 0x1A45DFA3
_UNKNOWN_SIZES = {(1 << (7 * n)) - 1 for n in range(1, 9)}


class StructureError(Exception):
    """The bytes are not a well-formed container of the family (corrupt, not merely cut short)."""


def mp4_boxes(data: bytes) -> list[tuple[str, int, int]]:
    """Top-level boxes as (type, offset, size); raises StructureError on an impossible box header.
    The last entry's offset + size may exceed len(data) (a truncated file)."""
    boxes, offset = [], 0
    while offset < len(data):
        if len(data) - offset < 8:
            boxes.append(("<partial header>", offset, 8))
            break
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            if len(data) - offset < 16:
                boxes.append(("<partial header>", offset, 16))
                break
            size, header = struct.unpack_from(">Q", data, offset + 8)[0], 16
        elif size == 0:  # extends to the end of the file
            size = len(data) - offset
        if size < header or not kind.isascii():
            raise StructureError(f"invalid MP4 box at offset {offset}")
        boxes.append((kind.decode("ascii", "replace"), offset, size))
        offset += size
    return boxes


def mp4_truncation(data: bytes) -> str | None:
    """Why an MP4 file looks cut short, or None."""
    boxes = mp4_boxes(data)
    if not boxes:
        return "empty file"
    kind, offset, size = boxes[-1]
    if offset + size > len(data):
        return f"MP4 box {kind!r} at offset {offset} needs {size} bytes, {len(data) - offset} present"
    kinds = [b[0] for b in boxes]
    if "moov" not in kinds:
        return "no 'moov' box"
    if kinds[-1] == "moof":
        return "last 'moof' has no 'mdat'"
    return None


def init_size(path: Path) -> int:
    """Bytes of the init section (everything up to the end of ``moov``) of a fragmented MP4."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    end = 0
    for kind, offset, size in mp4_boxes(head):
        if kind == "moof":
            break
        end = offset + size
        if kind == "moov":
            return end
    raise StructureError(f"no 'moov' box in the first {len(head)} bytes of {path.name}")


def _vint(data: bytes, offset: int, keep_marker: bool) -> tuple[int, int]:
    """An EBML variable-length integer at ``offset``: (value, length)."""
    if offset >= len(data):
        raise EOFError
    first = data[offset]
    if first == 0:
        raise StructureError(f"invalid EBML length byte at offset {offset}")
    length = 9 - first.bit_length()
    if offset + length > len(data):
        raise EOFError
    value = first if keep_marker else first & ((1 << (8 - length)) - 1)
    for byte in data[offset + 1:offset + length]:
        value = (value << 8) | byte
    return value, length


def ebml_truncation(data: bytes) -> str | None:
    """Why a WebM/Matroska file looks cut short, or None. A flat walk: unknown-size masters (the
    Segment and the live-recorder clusters of MediaRecorder) are entered, every other element is
    skipped and must fit in the file."""
    offset = 0
    try:
        first, _ = _vint(data, 0, keep_marker=True)
        if first != MKV_EBML:
            raise StructureError("no EBML header")
        while offset < len(data):
            element, id_len = _vint(data, offset, keep_marker=True)
            size, size_len = _vint(data, offset + id_len, keep_marker=False)
            body = offset + id_len + size_len
            known = size not in _UNKNOWN_SIZES
            if known and body + size > len(data):
                return (f"EBML element 0x{element:X} at offset {offset} needs {size} bytes,"
                        f" {len(data) - body} present")
            entered = element == MKV_SEGMENT or (element == MKV_CLUSTER and not known)
            if not known and not entered:
                raise StructureError(f"unknown size on EBML element 0x{element:X} at offset {offset}")
            offset = body if entered else body + size
    except EOFError:
        return f"EBML element header cut at offset {offset}"
    return None


def truncation(path: Path, family: str) -> str | None:
    """Why ``path`` (of container ``family``: "mp4" or "matroska") looks cut short, or None.
    Raises StructureError when the bytes are not that container at all."""
    data = path.read_bytes()
    if family == "mp4":
        return mp4_truncation(data)
    if family == "matroska":
        return ebml_truncation(data)
    return None

"""The contract as data, and hypothesis strategies built from it.

- ``grpc_services()``: every gRPC service of the generated ``proctor`` package (descriptors), so a
  new RPC is fuzzed without anyone listing it.
- ``message_strategy(descriptor, pool)``: random protobufs of any message type: strings (empty, NUL,
  unicode, control and bidi characters, injection-looking text, 1 MB), ids of other candidates,
  sittings, streams (``pool``), enums out of range, negative/huge numbers, NaN, nested and repeated
  fields up to a bound, oneofs.
- ``mutation_strategy(seed, pool)``: a valid request changed: one field flipped to a random value,
  or its bytes truncated, bit-flipped, spliced with junk, duplicated, or replaced by random bytes.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import descriptor as d
from google.protobuf import message_factory
from google.protobuf.message import Message
from hypothesis import strategies as st

import proctor

MB = 1_000_000
HUGE_TEXT = "考" * (MB // 3)  # 1 MB of UTF-8
HUGE_ASCII = "x" * MB
HUGE_BYTES = bytes(range(256)) * (MB // 256)
MAX_DEPTH = 3
MAX_REPEATED = 3

SPECIAL_STRINGS: tuple[str, ...] = (
    "", " ", "\x00", "a\x00b", "\u202eevil", "😀" * 8, "考生", "../../../etc/passwd", "' OR '1'='1", "%s%n%x",
    "<script>alert(1)</script>", "\ud7ff\ue000\uffff", "\t\r\n", "-1", "0", "9" * 40, "NaN", "x" * 5000,
    "s-" + "a" * 255, HUGE_ASCII, HUGE_TEXT,
)
SPECIAL_BYTES: tuple[bytes, ...] = (b"", b"\x00" * 32, b"\xff" * 31, bytes(range(33)), HUGE_BYTES)

_INT_BOUNDS = {
    d.FieldDescriptor.CPPTYPE_INT32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.CPPTYPE_INT64: (-(2**63), 2**63 - 1),
    d.FieldDescriptor.CPPTYPE_UINT32: (0, 2**32 - 1),
    d.FieldDescriptor.CPPTYPE_UINT64: (0, 2**64 - 1),
}


def proto_modules() -> list[Any]:
    """Every ``*_pb2`` module of the generated package."""
    out = []
    for info in pkgutil.walk_packages(proctor.__path__, "proctor."):
        if info.name.endswith("_pb2"):
            out.append(importlib.import_module(info.name))
    return out


def grpc_services() -> list[d.ServiceDescriptor]:
    return [svc for module in proto_modules() for svc in module.DESCRIPTOR.services_by_name.values()]


def method_path(method: d.MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def message_class(descriptor: d.Descriptor) -> type[Message]:
    return message_factory.GetMessageClass(descriptor)


@dataclass(frozen=True)
class Pool:
    """Values the generator prefers for fields of these names: real ids of the sitting under test,
    the victim's and other candidates' ids, streams, incidents."""

    strings: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def for_field(self, name: str) -> Sequence[str]:
        return self.strings.get(name, ())


def _int_strategy(f: d.FieldDescriptor) -> st.SearchStrategy[int]:
    low, high = _INT_BOUNDS[f.cpp_type]
    edges = sorted({low, high, 0, 1, max(low, -1), min(high, 2**31), 86_400 * 365 * 10_000})
    return st.one_of(st.sampled_from([e for e in edges if low <= e <= high]), st.integers(low, high))


def _scalar(f: d.FieldDescriptor, pool: Pool) -> st.SearchStrategy[Any]:
    t = f.cpp_type
    if t == d.FieldDescriptor.CPPTYPE_STRING:
        if f.type == d.FieldDescriptor.TYPE_BYTES:
            return st.one_of(st.binary(max_size=48), st.sampled_from(SPECIAL_BYTES))
        text = st.one_of(st.text(max_size=24), st.sampled_from(SPECIAL_STRINGS))
        known = pool.for_field(f.name)
        return st.one_of(st.sampled_from(list(known)), text) if known else text
    if t in _INT_BOUNDS:
        return _int_strategy(f)
    if t == d.FieldDescriptor.CPPTYPE_BOOL:
        return st.booleans()
    if t == d.FieldDescriptor.CPPTYPE_FLOAT:
        return st.floats(width=32)
    if t == d.FieldDescriptor.CPPTYPE_DOUBLE:
        return st.floats()
    if t == d.FieldDescriptor.CPPTYPE_ENUM:
        values = [v.number for v in f.enum_type.values]
        return st.one_of(st.sampled_from(values), st.integers(min(values) - 3, max(values) + 3),
                         st.sampled_from([-(2**31), 2**31 - 1]))
    raise AssertionError(f"unhandled field type {f.full_name}")


def field_strategy(f: d.FieldDescriptor, pool: Pool, depth: int) -> st.SearchStrategy[Any] | None:
    """A strategy for the field's value (a list for repeated fields, a dict for maps); None when
    the nesting bound is reached."""
    if f.message_type is not None and f.message_type.GetOptions().map_entry:
        key_f, value_f = f.message_type.fields_by_name["key"], f.message_type.fields_by_name["value"]
        value = field_strategy(value_f, pool, depth + 1)
        if value is None:
            return None
        return st.dictionaries(_scalar(key_f, pool), value, max_size=MAX_REPEATED)
    if f.cpp_type == d.FieldDescriptor.CPPTYPE_MESSAGE:
        if depth >= MAX_DEPTH:
            return None
        one: st.SearchStrategy[Any] = st.deferred(lambda: message_strategy(f.message_type, pool, depth + 1))
    else:
        one = _scalar(f, pool)
    if f.is_repeated:
        return st.lists(one, max_size=MAX_REPEATED)
    return one


def set_field(msg: Message, f: d.FieldDescriptor, value: Any) -> None:
    """Assign a generated value; a value the runtime itself refuses (e.g. NaN in a map key is fine,
    but a non-UTF-8 surrogate is not) leaves the field unset: it cannot be sent anyway."""
    target = getattr(msg, f.name)
    try:
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            target.clear()
            for k, v in value.items():
                if isinstance(v, Message):
                    target[k].CopyFrom(v)
                else:
                    target[k] = v
        elif f.is_repeated:
            del target[:]
            if f.cpp_type == d.FieldDescriptor.CPPTYPE_MESSAGE:
                for item in value:
                    target.add().CopyFrom(item)
            else:
                target.extend(value)
        elif f.cpp_type == d.FieldDescriptor.CPPTYPE_MESSAGE:
            target.CopyFrom(value)
        else:
            setattr(msg, f.name, value)
    except (ValueError, TypeError, UnicodeError):
        msg.ClearField(f.name)


def _build(descriptor: d.Descriptor, values: Mapping[str, Any]) -> Message:
    msg = message_class(descriptor)()
    for name, value in values.items():
        set_field(msg, descriptor.fields_by_name[name], value)
    return msg


_CACHE: dict[tuple[str, int, int], st.SearchStrategy[Message]] = {}


def message_strategy(descriptor: d.Descriptor, pool: Pool, depth: int = 0) -> st.SearchStrategy[Message]:
    key = (descriptor.full_name, id(pool), depth)
    if key in _CACHE:
        return _CACHE[key]
    plain: dict[str, st.SearchStrategy[Any]] = {}
    oneofs: list[st.SearchStrategy[dict[str, Any]]] = []
    for oneof in descriptor.oneofs:
        if oneof.name.startswith("_"):  # proto3 optional: a plain field
            continue
        members = [(f.name, s) for f in oneof.fields if (s := field_strategy(f, pool, depth)) is not None]
        if members:
            oneofs.append(st.one_of(st.just({}), *(s.map(lambda v, n=n: {n: v}) for n, s in members)))
    in_oneof = {f.name for o in descriptor.oneofs if not o.name.startswith("_") for f in o.fields}
    for f in descriptor.fields:
        if f.name not in in_oneof and (s := field_strategy(f, pool, depth)) is not None:
            plain[f.name] = s

    def merge(parts: tuple[dict[str, Any], ...]) -> Message:
        values: dict[str, Any] = {}
        for part in parts:
            values.update(part)
        return _build(descriptor, values)

    strategy = st.tuples(st.fixed_dictionaries({}, optional=plain), *oneofs).map(merge)
    _CACHE[key] = strategy
    return strategy


# --- mutations of a valid request ---------------------------------------------------------------

def _set_fields(msg: Message) -> list[d.FieldDescriptor]:
    return [f for f, _ in msg.ListFields()]


def flip_field(seed: Message, pool: Pool) -> st.SearchStrategy[bytes]:
    """The seed with one field (set or not) replaced by a random value of its type."""
    fields = [f for f in seed.DESCRIPTOR.fields if field_strategy(f, pool, 1) is not None]

    def with_value(f: d.FieldDescriptor) -> st.SearchStrategy[bytes]:
        strategy = field_strategy(f, pool, 1)
        assert strategy is not None

        def apply(value: Any) -> bytes:
            msg = type(seed)()
            msg.CopyFrom(seed)
            set_field(msg, f, value)
            return msg.SerializeToString()

        return strategy.map(apply)

    return st.sampled_from(fields).flatmap(with_value)


def _byte_mutation(raw: bytes, kind: str, at: int, junk: bytes, xor: int) -> bytes:
    n = max(len(raw), 1)
    i = at % n
    if kind == "truncate":
        return raw[:i]
    if kind == "flip":
        return raw[:i] + bytes([raw[i] ^ xor]) + raw[i + 1:] if raw else bytes([xor])
    if kind == "insert":
        return raw[:i] + junk + raw[i:]
    if kind == "overwrite":
        return raw[:i] + junk + raw[i + len(junk):]
    if kind == "duplicate":
        return raw + raw
    if kind == "bad_tag":  # field number 0 / a 10-byte varint that never ends / wire type 7
        return raw + [b"\x00\x01", b"\x08" + b"\xff" * 10, b"\x0f\x01"][xor % 3]
    if kind == "unknown_field":
        return raw + b"\xb8\x3e" + bytes([xor & 0x7F])  # field 999, varint
    if kind == "length_lies":  # a length-delimited field 1 claiming more bytes than follow
        return b"\x0a\xff\xff\x03" + junk
    return junk  # "random"


BYTE_MUTATIONS = ("truncate", "flip", "insert", "overwrite", "duplicate", "bad_tag", "unknown_field",
                  "length_lies", "random")


def byte_mutation(raw: bytes) -> st.SearchStrategy[bytes]:
    return st.builds(_byte_mutation, st.just(raw), st.sampled_from(BYTE_MUTATIONS), st.integers(0, 2**20),
                     st.binary(max_size=64), st.integers(1, 255))


def mutation_strategy(seed: Message, pool: Pool) -> st.SearchStrategy[tuple[str, bytes]]:
    raw = seed.SerializeToString()
    surgery = byte_mutation(raw).map(lambda b: ("bytes", b))
    if not seed.DESCRIPTOR.fields:
        return surgery
    return st.one_of(flip_field(seed, pool).map(lambda b: ("flip_field", b)), surgery)


# --- seeds and giant inputs ---------------------------------------------------------------------

def seed_request(descriptor: d.Descriptor, victim: Mapping[str, str]) -> Message:
    """A request aimed at the victim: every top-level string field named like one of the victim's
    ids set to it (the generic seed of an RPC nobody wrote a seed for)."""
    msg = message_class(descriptor)()
    for f in descriptor.fields:
        if f.name in victim and f.type == d.FieldDescriptor.TYPE_STRING and not f.is_repeated:
            setattr(msg, f.name, victim[f.name])
    return msg


def giant_inputs(seed: Message) -> Iterator[tuple[str, bytes, bool]]:
    """(label, raw request, beyond the 8 MiB transport limit): every string/bytes field of the seed
    1 MB, every repeated field 6000 items, and a 9 MB request."""
    msg = type(seed)()
    msg.CopyFrom(seed)
    textual = [f for f in seed.DESCRIPTOR.fields if not f.is_repeated
               and f.containing_oneof is None and f.cpp_type == d.FieldDescriptor.CPPTYPE_STRING]
    for f in textual[:6]:  # at most 6 MB: under the limit
        setattr(msg, f.name, HUGE_ASCII if f.type == d.FieldDescriptor.TYPE_STRING else HUGE_BYTES)
    yield "huge_fields", msg.SerializeToString(), False
    many = type(seed)()
    many.CopyFrom(seed)
    for f in seed.DESCRIPTOR.fields:
        if not f.is_repeated or (f.message_type and f.message_type.GetOptions().map_entry):
            continue
        target = getattr(many, f.name)
        for i in range(6000):
            if f.cpp_type == d.FieldDescriptor.CPPTYPE_MESSAGE:
                target.add()
            elif f.cpp_type == d.FieldDescriptor.CPPTYPE_STRING:
                target.append(f"v{i}" if f.type == d.FieldDescriptor.TYPE_STRING else b"v")
            elif f.cpp_type == d.FieldDescriptor.CPPTYPE_BOOL:
                target.append(True)
            elif f.cpp_type in (d.FieldDescriptor.CPPTYPE_FLOAT, d.FieldDescriptor.CPPTYPE_DOUBLE):
                target.append(1.0)
            else:
                target.append(1)
    yield "many_items", many.SerializeToString(), False
    # field 15 (unknown to every request), length-delimited, 9 MB: over gRPC's receive limit
    big = 9_000_000
    yield "over_limit", seed.SerializeToString() + b"\x7a" + _varint(big) + b"\x00" * big, True


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


Draw = Callable[[st.SearchStrategy[Any]], Any]

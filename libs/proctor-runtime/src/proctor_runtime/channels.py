"""gRPC client channels between our processes (and in the simulated clients).

grpc's default reconnect backoff grows to 120 s: after a peer restarts (a rollout, a crash), a channel
could wait minutes before trying again while every call fails fast with UNAVAILABLE. Ours retry the
connection every 0.2-2 s, so a restarted peer is used as soon as it serves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc

RECONNECT_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2000),
)


def channel(target: str, options: Sequence[tuple[str, Any]] = ()) -> grpc.aio.Channel:
    """A plaintext channel (the mesh or the pod network carries TLS) with the short reconnect backoff."""
    return grpc.aio.insecure_channel(target, options=[*RECONNECT_OPTIONS, *options])

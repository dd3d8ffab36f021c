"""``proctor demo``: the local sitting end to end (grows with every service)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any


def register(sub: Any) -> None:
    demo = sub.add_parser("demo", help="run a local sitting end to end on the local infrastructure")
    demo.add_argument("--json", action="store_true")
    demo.set_defaults(handler=demo_command)


def demo_command(args: argparse.Namespace) -> dict[str, Any]:
    from proctor_cli import demo

    result = asyncio.run(demo.run())
    states = ", ".join(f"{cid}={state}" for cid, state in result["states"].items())
    result["text"] = (f"sitting {result['sitting_id']} done: {states}; {result['session_events']} session "
                      f"events and incidents {result['incidents']} on Kafka")
    return result

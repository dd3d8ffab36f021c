"""``proctor demo``: the local sitting end to end (grows with every service)."""

from __future__ import annotations

import argparse
from typing import Any

from proctor_cli.commands_infra import topics_command


def register(sub: Any) -> None:
    demo = sub.add_parser("demo", help="run a local sitting end to end on the local infrastructure")
    demo.add_argument("--json", action="store_true")
    demo.set_defaults(handler=demo_command)


def demo_command(args: argparse.Namespace) -> dict[str, Any]:
    topics = topics_command(argparse.Namespace(all=False))
    return {"topics": topics["topics"],
            "text": "infrastructure ready; topics:\n" + topics["text"]}

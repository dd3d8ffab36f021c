"""``proctor``: the operator CLI. Every ``--json`` output is one JSON object on stdout."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from proctor_cli import (
    commands_auth,
    commands_capacity,
    commands_demo,
    commands_eval,
    commands_exam,
    commands_infra,
    commands_report,
    commands_serve,
)
from proctor_cli.simulate import command as commands_simulate
from proctor_runtime.devinfra import InfraError
from proctor_runtime.logs import configure_logging

Command = Callable[[argparse.Namespace], dict[str, Any]]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="proctor", description=__doc__)
    parser.add_argument("--log-level", default="WARNING")
    sub = parser.add_subparsers(dest="command", required=True)
    commands_infra.register(sub)
    commands_serve.register(sub)
    commands_demo.register(sub)
    commands_exam.register(sub)
    commands_eval.register(sub)
    commands_auth.register(sub)
    commands_capacity.register(sub)
    commands_report.register(sub)
    commands_simulate.register(sub)
    return parser


def emit(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        data = {k: v for k, v in result.items() if k not in ("text", "exit_code")}
        sys.stdout.write(json.dumps(data, default=str, ensure_ascii=False) + "\n")
        return
    text = result.get("text")
    if isinstance(text, str):
        sys.stdout.write(text + "\n")
    else:
        sys.stdout.write(json.dumps(result, default=str, ensure_ascii=False, indent=2) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging("proctor-cli", args.log_level)
    handler: Command = args.handler
    try:
        result = handler(args)
    except InfraError as exc:
        logging.getLogger("proctor").debug("infra error", exc_info=True)
        sys.stderr.write(f"proctor {args.command}: {exc}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    emit(result, getattr(args, "json", False))
    return int(result.get("exit_code", 0))


if __name__ == "__main__":
    raise SystemExit(main())

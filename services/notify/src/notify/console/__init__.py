"""The proctor web console served by notify (see README.md in this folder)."""

from notify.console.server import ConsoleHandle, build_app, start_console

__all__ = ["ConsoleHandle", "build_app", "start_console"]

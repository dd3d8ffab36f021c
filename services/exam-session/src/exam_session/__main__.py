"""Run exam-session: settings -> logging -> serve until SIGTERM."""

from __future__ import annotations

from exam_session.app import build
from exam_session.config import Settings
from proctor_runtime.service import service_main


def main() -> None:
    service_main(Settings, build)


if __name__ == "__main__":
    main()

"""Run auth-face: settings -> logging -> serve until SIGTERM."""

from __future__ import annotations

from auth_face.app import build
from auth_face.config import Settings
from proctor_runtime.service import service_main


def main() -> None:
    service_main(Settings, build)


if __name__ == "__main__":
    main()

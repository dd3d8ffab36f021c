"""``python -m notify``: serve until SIGTERM."""

from __future__ import annotations

from notify.app import build
from notify.config import Settings
from proctor_runtime.service import service_main


def main() -> None:
    service_main(Settings, build)


if __name__ == "__main__":
    main()

"""Settings of the face model pack (environment prefix ``PROCTOR_FACES_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class FacesSettings(BaseSettings):
    """Which pack a process loads. A service reads these once and passes them to ``load_pack``."""

    model_config = SettingsConfigDict(env_prefix="PROCTOR_FACES_", frozen=True, extra="ignore")

    pack: Literal["default", "insightface"] = "default"
    threads: int = Field(default=1, ge=1, le=64, description="inference threads per model (1 by default)")
    model_dir: Path | None = Field(default=None, description="insightface: the mounted, licensed ONNX models")
    config_file: Path | None = Field(default=None, description="overrides the pack's calibrated thresholds")

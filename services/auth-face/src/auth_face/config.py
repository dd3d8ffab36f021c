"""auth-face settings (env prefix ``AUTH_FACE_``; the model pack itself: ``PROCTOR_FACES_*``)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from proctor_faces import FacesSettings
from proctor_runtime.settings import BaseServiceSettings

MIB = 1024 * 1024


class Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AUTH_FACE_", frozen=True, extra="ignore")

    service_name: str = "auth-face"
    kafka_group_id: str = "auth-face"
    # which pack to load, read from PROCTOR_FACES_* (pack, threads, model_dir, config_file)
    faces: FacesSettings = Field(default_factory=FacesSettings)
    # threads running model inference (one per process by default: the models are CPU-bound)
    inference_workers: int = Field(default=1, ge=1, le=16)

    # Templates are encrypted at rest with AES-256-GCM. "kid:base64url(32 bytes)" comma-separated:
    # the first key encrypts, every listed key decrypts (rotation: prepend the new key, keep the old
    # ones until their templates are deleted or re-enrolled). Empty: a key derived from the token
    # signing key (development only; logged as a warning).
    template_keys: SecretStr = SecretStr("")

    # Session tokens (candidate role, bound to sitting, candidate and device; jti = session id)
    session_ttl_s: int = Field(default=1200, ge=60)
    # a RefreshSession retry within this window returns the same new token
    refresh_idempotency_s: int = 10

    # Liveness challenge
    challenge_moves: int = Field(default=2, ge=1, le=4)  # head movements; a blink is always added
    challenge_ttl_s: int = 120
    min_frames: int = 10
    max_frames: int = 120
    target_fps: int = 10
    frame_width: int = 640
    frame_height: int = 480
    # capture times may span at most the challenge's age plus this (client clocks drift a little)
    capture_span_tolerance_s: float = 3.0

    # Media limits
    max_photo_bytes: int = 10 * MIB
    max_pixels: int = 25_000_000
    max_media_bytes: int = 4 * MIB  # all frames of one login, or one clip
    max_frame_pixels: int = 4_000_000

    # Failed logins: after this many the candidate is queued for manual review
    max_failed_attempts: int = Field(default=5, ge=1)
    # pre-login calls (challenge, login, claim) per minute, per candidate and per client address
    prelogin_per_candidate_per_minute: float = 12
    prelogin_per_address_per_minute: float = 600

    # Staff override claim codes
    override_validity_s: int = 600
    max_override_validity_s: int = 4 * 3600
    bulk_enrol_concurrency: int = Field(default=8, ge=1, le=64)

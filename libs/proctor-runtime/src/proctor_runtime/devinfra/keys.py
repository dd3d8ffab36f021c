"""The local development keyring: one Ed25519 key per token issuer, kept under the state dir.

Issuers: ``auth-face`` (candidate session tokens), ``exam-session`` (phone device tokens, bind
QR payloads), ``media-ingest`` and ``anomaly`` (their own service identities when they call
exam-session or auth-face) and ``admin``
(staff, proctor and service tokens issued by ``proctor token``). A keyring made before an issuer
existed gets that issuer's key added on first use.
Every local service verifies with all public keys. Production keys come from Kubernetes secrets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from proctor_runtime.devinfra.config import InfraSettings
from proctor_runtime.tokens import generate_key

ISSUERS = ("auth-face", "exam-session", "media-ingest", "anomaly", "admin")


@dataclass(frozen=True)
class DevKeyring:
    signing: dict[str, str]
    public: dict[str, str]

    @property
    def public_keys(self) -> str:
        return ",".join(self.public[i] for i in ISSUERS)


def keyring(settings: InfraSettings) -> DevKeyring:
    """Load the keyring, creating it (0600) on first use."""
    path: Path = settings.state / "keys.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    missing = [issuer for issuer in ISSUERS if issuer not in data]
    if missing:
        for issuer in missing:
            signing, public = generate_key(f"{issuer}-dev-1")
            data[issuer] = {"signing": signing, "public": public}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        tmp.touch(mode=0o600)  # private keys: owner only, before anything is written
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(path)
    return DevKeyring({k: v["signing"] for k, v in data.items()}, {k: v["public"] for k, v in data.items()})

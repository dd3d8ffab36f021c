"""Encryption at rest of templates (and kept photos) with AES-256-GCM, keys named for rotation, and
the derivation of staff-override claim codes.

A sealed value is bound to its row by the associated data (sitting, candidate, template id, what),
so a ciphertext copied onto another candidate's row does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L


class UnknownKey(Exception):
    """A sealed value names a key this process does not hold (a configuration problem)."""


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_key(kid: str) -> str:
    """A new template key setting entry: ``kid:base64url(32 random bytes)``."""
    return f"{kid}:{base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip('=')}"


def derive_from_signing_key(signing_key: str) -> str:
    """Development fallback: a template key derived (HKDF, own purpose label) from the token signing key."""
    kid, seed = signing_key.split(":", 1)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"proctor auth-face template key v1").derive(_b64d(seed))
    return f"derived-{kid}:{base64.urlsafe_b64encode(key).decode().rstrip('=')}"


@dataclass(frozen=True)
class Sealed:
    key_id: str
    nonce: bytes
    ciphertext: bytes


class TemplateCipher:
    def __init__(self, setting: str) -> None:
        self._keys: dict[str, AESGCM] = {}
        self._raw: dict[str, bytes] = {}
        self.active = ""
        for entry in setting.split(","):
            entry = entry.strip()
            if not entry:
                continue
            if ":" not in entry:
                raise ValueError("template keys must be 'kid:base64url(32 bytes)'")
            kid, raw_text = entry.split(":", 1)
            raw = _b64d(raw_text)
            if len(raw) != 32:
                raise ValueError(f"template key {kid!r} must be 32 bytes (AES-256), got {len(raw)}")
            self._keys[kid] = AESGCM(raw)
            self._raw[kid] = raw
            self.active = self.active or kid
        if not self.active:
            raise ValueError("no template key configured")

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def seal(self, plaintext: bytes, aad: bytes) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        return Sealed(self.active, nonce, self._keys[self.active].encrypt(nonce, plaintext, aad))

    def open(self, sealed: Sealed, aad: bytes) -> bytes:
        key = self._keys.get(sealed.key_id)
        if key is None:
            raise UnknownKey(f"template key {sealed.key_id!r} is not configured (AUTH_FACE_TEMPLATE_KEYS)")
        return key.decrypt(sealed.nonce, sealed.ciphertext, aad)

    def claim_code(self, override_id: str, key_id: str = "", length: int = 8) -> str:
        """The claim code of an override, derived (HMAC) from its id with the named key: a retried
        StaffOverride gets the same code back and no code is ever stored, only its SHA-256."""
        raw = self._raw.get(key_id or self.active)
        if raw is None:
            raise UnknownKey(f"template key {key_id!r} is not configured (AUTH_FACE_TEMPLATE_KEYS)")
        mac = hmac.new(raw, b"claim-code|" + override_id.encode(), hashlib.sha256).digest()
        return "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in mac[:length])


def code_digest(code: str) -> bytes:
    return hashlib.sha256(code.strip().upper().encode()).digest()


def template_aad(sitting_id: str, candidate_id: str, template_id: str, what: str) -> bytes:
    return f"auth-face/{what}/v1|{sitting_id}|{candidate_id}|{template_id}".encode()

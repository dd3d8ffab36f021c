"""Signed, short-lived tokens carried as gRPC metadata ``authorization: Bearer <token>``.

Format: ``pt1.<base64url(JSON claims)>.<base64url(Ed25519 signature)>``; the claims name the
key id (``kid``) so keys rotate: verifiers hold several public keys, the signer uses one.
A candidate token is bound to a sitting, a candidate and a device; a phone token to the bound
phone; proctor tokens carry room scopes; service tokens identify a calling service.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from proctor_runtime.errors import PermissionDenied, Unauthenticated

PREFIX = "pt1"
MAX_TOKEN_BYTES = 4096
CLOCK_SKEW_S = 30


class Role(StrEnum):
    CANDIDATE = "candidate"
    PHONE = "phone"
    PROCTOR = "proctor"
    CHIEF_PROCTOR = "chief_proctor"
    STAFF = "staff"
    SERVICE = "service"


@dataclass(frozen=True)
class Claims:
    sub: str
    role: Role
    exp: int
    iat: int = 0
    jti: str = ""
    kid: str = ""
    sitting_id: str = ""
    candidate_id: str = ""
    device_id: str = ""
    rooms: tuple[str, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> bytes:
        data = asdict(self)
        data["role"] = str(self.role)
        data["rooms"] = list(self.rooms)
        data["extra"] = dict(self.extra)
        return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Claims:
        data: dict[str, Any] = json.loads(raw)
        data["role"] = Role(data["role"])
        data["rooms"] = tuple(data.get("rooms", ()))
        return cls(**data)


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_key(kid: str) -> tuple[str, str]:
    """A new key pair as (signing key "kid:seed", public key "kid:pub"), both base64url."""
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return f"{kid}:{_b64e(seed)}", f"{kid}:{_b64e(public)}"


def public_key_of(signing_key: str) -> str:
    kid, seed = signing_key.split(":", 1)
    private = Ed25519PrivateKey.from_private_bytes(_b64d(seed))
    return f"{kid}:{_b64e(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))}"


class TokenSigner:
    def __init__(self, signing_key: str) -> None:
        if ":" not in signing_key:
            raise ValueError("signing key must be 'kid:base64url(seed)'")
        self.kid, seed = signing_key.split(":", 1)
        self._key = Ed25519PrivateKey.from_private_bytes(_b64d(seed))

    def issue(self, *, sub: str, role: Role, ttl_s: int, now: float | None = None,
              **fields: Any) -> tuple[str, Claims]:
        issued = int(now if now is not None else time.time())
        claims = Claims(sub=sub, role=role, iat=issued, exp=issued + ttl_s,
                        jti=secrets.token_urlsafe(12), kid=self.kid, **fields)
        return self.sign(claims), claims

    def sign(self, claims: Claims) -> str:
        """Sign fully specified claims (their ``kid`` must be this signer's). Ed25519 is
        deterministic: the same claims always give the same token."""
        if claims.kid != self.kid:
            raise ValueError(f"claims name key {claims.kid!r}, this signer holds {self.kid!r}")
        body = claims.to_json()
        return f"{PREFIX}.{_b64e(body)}.{_b64e(self._key.sign(body))}"


class TokenVerifier:
    def __init__(self, public_keys: Iterable[str], clock: Callable[[], float] = time.time,
                 cache_size: int = 50_000) -> None:
        self.clock = clock
        self._keys: dict[str, Ed25519PublicKey] = {}
        # tokens whose signature was verified: a client sends the same token on every call
        self._verified: OrderedDict[str, Claims] = OrderedDict()
        self._cache_size = cache_size
        for entry in public_keys:
            entry = entry.strip()
            if not entry:
                continue
            kid, raw = entry.split(":", 1)
            self._keys[kid] = Ed25519PublicKey.from_public_bytes(_b64d(raw))

    @classmethod
    def from_setting(cls, value: str, clock: Callable[[], float] = time.time) -> TokenVerifier:
        return cls(value.split(","), clock)

    def verify(self, token: str, now: float | None = None) -> Claims:
        current = now if now is not None else self.clock()
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify_signature(token)
            self._verified[token] = claims
            if len(self._verified) > self._cache_size:
                self._verified.popitem(last=False)
        if current > claims.exp + CLOCK_SKEW_S:
            raise Unauthenticated("TOKEN_EXPIRED", "the token has expired; sign in again",
                                  "令牌已过期，请重新登录")
        if claims.iat and current + CLOCK_SKEW_S < claims.iat:
            raise Unauthenticated("TOKEN_NOT_YET_VALID", "the token is not valid yet",
                                  "令牌尚未生效")
        return claims

    def _verify_signature(self, token: str) -> Claims:
        bad = Unauthenticated("TOKEN_INVALID", "the token is malformed or its signature is invalid",
                              "令牌无效")
        if len(token) > MAX_TOKEN_BYTES:
            raise bad
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != PREFIX:
            raise bad
        try:
            body, signature = _b64d(parts[1]), _b64d(parts[2])
            claims = Claims.from_json(body)
        except (ValueError, TypeError, KeyError):
            raise bad from None
        key = self._keys.get(claims.kid)
        if key is None:
            raise Unauthenticated("TOKEN_UNKNOWN_KEY", "the token was signed by an unknown key",
                                  "令牌签名密钥未知")
        try:
            key.verify(signature, body)
        except InvalidSignature:
            raise bad from None
        return claims


def require_role(claims: Claims | None, *roles: Role) -> Claims:
    if claims is None:
        raise Unauthenticated("TOKEN_MISSING", "this call needs 'authorization: Bearer <token>'",
                              "缺少身份令牌")
    if claims.role not in roles:
        raise PermissionDenied("ROLE_NOT_ALLOWED",
                               f"a {claims.role} token may not make this call",
                               "无权执行此操作")
    return claims

"""A service's own identity when it calls another service: a short-lived ``service`` token.

A service with a signing key mints its own tokens (subject = its name, a few minutes of validity,
re-minted before expiry), so no long-lived bearer secret is shared; the callee trusts the
service's public key (``TOKEN_PUBLIC_KEYS``). Without a signing key the configured
``SERVICE_TOKEN`` is used as it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from proctor_runtime.tokens import Role, TokenSigner


class ServiceIdentity:
    def __init__(self, service: str, signing_key: str = "", static_token: str = "", ttl_s: int = 300,
                 clock: Callable[[], float] = time.time) -> None:
        if not signing_key and not static_token:
            raise ValueError(f"{service}: a token signing key or a service token is needed to call other services")
        self.service = service
        self.signer = TokenSigner(signing_key) if signing_key else None
        self.static_token = static_token
        self.ttl_s = ttl_s
        self.clock = clock
        self._token = ""
        self._expires = 0.0

    def token(self) -> str:
        if self.signer is None:
            return self.static_token
        now = self.clock()
        if now > self._expires - self.ttl_s / 3:
            self._token, claims = self.signer.issue(sub=self.service, role=Role.SERVICE, ttl_s=self.ttl_s, now=now)
            self._expires = float(claims.exp)
        return self._token

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token()}"),)

"""Bad credentials derived from a real token: missing, garbage, forged, tampered, expired, too long.

Every variant must be refused UNAUTHENTICATED by a method that needs a token, whatever the request.
"""

from __future__ import annotations

import base64
import dataclasses
import json

from proctor_runtime.tokens import PREFIX, Claims, Role, TokenSigner, generate_key

Metadata = tuple[tuple[str, str], ...]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _tampered(token: str, **changes: object) -> str:
    """The token's claims changed, its signature kept."""
    prefix, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims.update(changes)
    return f"{prefix}.{_b64(json.dumps(claims, separators=(',', ':')).encode())}.{signature}"


def bad_tokens(signer: TokenSigner, claims: Claims, now: float) -> dict[str, Metadata]:
    """Variants of the holder of ``claims`` (signed by ``signer``) that prove nothing."""
    token = signer.sign(claims)
    forger = TokenSigner(generate_key(signer.kid)[0])   # same key id, another key
    stranger = TokenSigner(generate_key("stranger-1")[0])
    expired = dataclasses.replace(claims, iat=int(now) - 7200, exp=int(now) - 3600, jti="expired")
    future = dataclasses.replace(claims, iat=int(now) + 7200, exp=int(now) + 9000, jti="future")
    out: dict[str, str | None] = {
        "none": None,
        "empty_bearer": "Bearer ",
        "basic_scheme": f"Basic {token}",
        "garbage": "Bearer garbage",
        "many_spaces": "Bearer    pt1 . . ",
        "malformed_pt1": f"Bearer {PREFIX}.!!!.???",
        "not_json": f"Bearer {PREFIX}.{_b64(b'not json')}.{_b64(b'sig')}",
        "forged_signature": f"Bearer {forger.sign(claims)}",
        "unknown_key": f"Bearer {stranger.sign(dataclasses.replace(claims, kid=stranger.kid))}",
        "tampered_candidate": f"Bearer {_tampered(token, candidate_id='someone-else', sub='someone-else')}",
        "tampered_role": f"Bearer {_tampered(token, role=str(Role.STAFF))}",
        "tampered_expiry": f"Bearer {_tampered(signer.sign(expired), exp=int(now) + 3600)}",
        "expired": f"Bearer {signer.sign(expired)}",
        "not_yet_valid": f"Bearer {signer.sign(future)}",
        "oversize": f"Bearer {token}{'A' * 6000}",
        "truncated_signature": f"Bearer {token[:-10]}",
    }
    return {name: (() if value is None else (("authorization", value),)) for name, value in out.items()}

"""Candidate session tokens in the shared ``pt1`` format (``proctor_runtime.tokens``), signed with
auth-face's Ed25519 key, with ``jti`` = the session id so every service can ask ``GetSession``
whether it was revoked. Ed25519 signatures are deterministic: the same claims give the same token,
which makes a retried RefreshSession return the token it returned the first time."""

from __future__ import annotations

from proctor_runtime.tokens import Claims, Role, TokenSigner


class SessionTokenIssuer:
    def __init__(self, signing_key: str) -> None:
        if ":" not in signing_key:
            raise ValueError("AUTH_FACE_TOKEN_SIGNING_KEY must be 'kid:base64url(seed)'")
        self._signer = TokenSigner(signing_key)
        self.kid = self._signer.kid

    def issue(self, *, session_id: str, sitting_id: str, candidate_id: str, device_id: str, iat: int,
              exp: int, origin: str) -> tuple[str, Claims]:
        claims = Claims(sub=candidate_id, role=Role.CANDIDATE, exp=exp, iat=iat, jti=session_id, kid=self.kid,
                        sitting_id=sitting_id, candidate_id=candidate_id, device_id=device_id,
                        extra={"origin": origin, "iss": "auth-face"})
        return self._signer.sign(claims), claims

import pytest

from proctor_runtime.errors import PermissionDenied, Unauthenticated
from proctor_runtime.tokens import (
    Role,
    TokenSigner,
    TokenVerifier,
    generate_key,
    public_key_of,
    require_role,
)


@pytest.fixture
def keys():
    return generate_key("k1")


def test_issue_and_verify_round_trip(keys):
    signing, public = keys
    token, claims = TokenSigner(signing).issue(
        sub="c-1", role=Role.CANDIDATE, ttl_s=600, sitting_id="s-1", candidate_id="c-1",
        device_id="dev-1", now=1_000_000)
    got = TokenVerifier([public]).verify(token, now=1_000_100)
    assert got == claims
    assert got.device_id == "dev-1" and got.kid == "k1"


def test_expired_token_is_refused(keys):
    signing, public = keys
    token, _ = TokenSigner(signing).issue(sub="c", role=Role.CANDIDATE, ttl_s=60, now=1000)
    with pytest.raises(Unauthenticated) as err:
        TokenVerifier([public]).verify(token, now=1000 + 60 + 31)
    assert err.value.reason == "TOKEN_EXPIRED"
    assert "过期" in err.value.message_zh


def test_tampered_claims_are_refused(keys):
    signing, public = keys
    token, _ = TokenSigner(signing).issue(sub="c", role=Role.CANDIDATE, ttl_s=60)
    other, _ = TokenSigner(signing).issue(sub="c", role=Role.STAFF, ttl_s=60)
    forged = ".".join([token.split(".")[0], other.split(".")[1], token.split(".")[2]])
    with pytest.raises(Unauthenticated) as err:
        TokenVerifier([public]).verify(forged)
    assert err.value.reason == "TOKEN_INVALID"


def test_token_from_an_unknown_key_is_refused(keys):
    signing, _ = keys
    _, other_public = generate_key("k2")
    token, _ = TokenSigner(signing).issue(sub="c", role=Role.CANDIDATE, ttl_s=60)
    with pytest.raises(Unauthenticated) as err:
        TokenVerifier([other_public]).verify(token)
    assert err.value.reason == "TOKEN_UNKNOWN_KEY"


def test_key_rotation_accepts_old_and_new_keys():
    old_signing, old_public = generate_key("2026-01")
    new_signing, new_public = generate_key("2026-02")
    verifier = TokenVerifier.from_setting(f"{old_public},{new_public}")
    for signing in (old_signing, new_signing):
        token, _ = TokenSigner(signing).issue(sub="p", role=Role.PROCTOR, ttl_s=60, rooms=("r1",))
        assert verifier.verify(token).rooms == ("r1",)
    assert public_key_of(new_signing) == new_public


@pytest.mark.parametrize("garbage", ["", "x", "pt1.a.b", "pt1..", "pt2.e30.AA", "a" * 5000,
                                     "pt1.!!!.???"])
def test_garbage_is_unauthenticated_not_a_crash(keys, garbage):
    with pytest.raises(Unauthenticated):
        TokenVerifier([keys[1]]).verify(garbage)


def test_require_role(keys):
    signing, public = keys
    token, _ = TokenSigner(signing).issue(sub="c", role=Role.CANDIDATE, ttl_s=60)
    claims = TokenVerifier([public]).verify(token)
    assert require_role(claims, Role.CANDIDATE) is claims
    with pytest.raises(PermissionDenied):
        require_role(claims, Role.STAFF)
    with pytest.raises(Unauthenticated):
        require_role(None, Role.STAFF)


def test_a_cached_verification_still_expires(keys):
    signing, public = keys
    verifier = TokenVerifier([public])
    token, _ = TokenSigner(signing).issue(sub="c", role=Role.CANDIDATE, ttl_s=60, now=1000)
    assert verifier.verify(token, now=1010).sub == "c"
    with pytest.raises(Unauthenticated) as err:
        verifier.verify(token, now=1000 + 60 + 31)
    assert err.value.reason == "TOKEN_EXPIRED"

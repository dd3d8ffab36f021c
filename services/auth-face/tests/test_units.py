"""No external processes: media limits, the failure rules, template sealing, session tokens."""

import io
import itertools

import cv2
import numpy as np
import pytest
from auth_harness import huge_jpeg
from cryptography.exceptions import InvalidTag
from PIL import Image

from auth_face import crypto, domain, media
from auth_face.domain import Decision, Failure, Issue, LoginAnalysis, Match, Step, StepOutcome
from auth_face.inference import frames_identical
from auth_face.session_tokens import SessionTokenIssuer
from proctor_runtime.errors import InvalidArgument
from proctor_runtime.tokens import Role, TokenVerifier, generate_key

LIMITS = media.Limits(max_bytes=10 * 2**20, max_pixels=25_000_000)


def refusal(data: bytes, limits: media.Limits = LIMITS) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as err:
        media.decode_image(data, limits, "id_photo")
    return err.value


def test_decodes_jpeg_and_png(photos):
    img = media.decode_image(photos["astronaut"], LIMITS, "id_photo")
    assert img.shape == (512, 512, 3) and img.dtype == np.uint8
    assert media.decode_image(photos["hanks"], LIMITS, "id_photo").shape == (112, 112, 3)


def test_not_an_image_and_other_formats():
    assert refusal(b"%PDF-1.4 definitely not a photo").reason == "NOT_AN_IMAGE"
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    got = refusal(gif.getvalue())
    assert got.reason == "NOT_AN_IMAGE" and "GIF" in got.message_en
    assert refusal(b"").reason == "FIELD_REQUIRED"


def test_truncated_jpeg_is_refused_precisely(photos):
    data = photos["astronaut"]
    got = refusal(data[: len(data) // 2])
    assert got.reason == "IMAGE_TRUNCATED" and got.metadata["field"] == "id_photo"
    assert refusal(data[:40]).reason in ("IMAGE_TRUNCATED", "NOT_AN_IMAGE")


def test_huge_images_are_refused_from_the_header():
    data = huge_jpeg()  # ~50 MP
    got = refusal(data)
    assert got.reason == "IMAGE_TOO_LARGE"
    assert got.metadata["max_pixels"] == "25000000" and int(got.metadata["pixels"]) > 50_000_000
    assert "megapixels" in got.message_en and "百万像素" in got.message_zh
    got = refusal(data, media.Limits(max_bytes=100_000, max_pixels=25_000_000))
    assert got.reason == "IMAGE_TOO_LARGE" and got.metadata["max_bytes"] == "100000"


def test_exif_orientation_is_applied():
    img = Image.new("RGB", (40, 20), (10, 200, 10))
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 on display
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    assert media.decode_image(out.getvalue(), LIMITS, "id_photo", exif_orientation=True).shape[:2] == (40, 20)


def test_identical_frames_detection(photos):
    img = cv2.imdecode(np.frombuffer(photos["astronaut"], np.uint8), cv2.IMREAD_COLOR)
    assert frames_identical([img] * 5)
    shifted = np.roll(img, 40, axis=1)
    assert not frames_identical([img, img, shifted])


def test_clip_decoding_and_refusal(shared_faces):
    data = (shared_faces / "video" / "lamia_head_turns.webm").read_bytes()
    frames = media.decode_clip(data, "video/webm;codecs=vp8", media.Limits(4 * 2**20, 4_000_000), 120, 10)
    assert 80 <= len(frames) <= 120
    assert all(b[0] > a[0] for a, b in itertools.pairwise(frames))
    with pytest.raises(InvalidArgument) as err:
        media.decode_clip(b"\x1aE\xdf\xa3 garbage", "video/webm", media.Limits(4 * 2**20, 4_000_000), 120, 10)
    assert err.value.reason == "NOT_AN_IMAGE"


def analysis(reasons=(), passed=(True, True, True), match=Decision.MATCH, match_reasons=()) -> LoginAnalysis:
    steps = [StepOutcome(s, p) for s, p in zip([Step.TURN_LEFT, Step.BLINK, Step.LOOK_UP], passed, strict=True)]
    return LoginAnalysis(30, list(reasons), steps, Match(match, 0.3, 0.42, list(match_reasons)))


def test_failure_rules_and_their_order():
    assert domain.login_failures(analysis()) == []
    masked = domain.login_failures(analysis(["MASKED_OR_OCCLUDED", "STATIC_SEQUENCE"], match=Decision.INCONCLUSIVE,
                                            match_reasons=[Issue.FACE_MASKED]))
    assert [f.reason for f in masked] == [Failure.FACE_QUALITY, Failure.STILL_IMAGE]
    assert masked[0].issue is Issue.FACE_MASKED and masked[0].text == ("please remove your mask", "请摘下口罩")
    missed = domain.login_failures(analysis(["STEP_NOT_FOUND:BLINK"], passed=(True, False, False)))
    assert missed[0].reason is Failure.LIVENESS_STEP_MISSED and missed[0].step_index == 1
    assert missed[0].text[1] == "未完成第 2 步：请眨眼"
    replay = domain.login_failures(analysis(["UNEXPECTED_MOVEMENT:LOOK_DOWN"], match=Decision.MISMATCH))
    assert [f.reason for f in replay] == [Failure.REPLAY_SUSPECTED, Failure.FACE_MISMATCH]
    too_few = LoginAnalysis(3, ["TOO_FEW_FRAMES"], [], None)
    assert [f.reason for f in domain.login_failures(too_few)] == [Failure.INSUFFICIENT_FRAMES]


def test_template_sealing_binds_the_row_and_rotates():
    old = crypto.TemplateCipher(crypto.generate_key("k1"))
    vec = np.random.default_rng(1).normal(size=128).astype("<f4").tobytes()
    aad = crypto.template_aad("s1", "c1", "tpl-1", "template")
    sealed = old.seal(vec, aad)
    assert sealed.key_id == "k1" and vec not in sealed.ciphertext
    assert old.open(sealed, aad) == vec
    with pytest.raises(InvalidTag):
        old.open(sealed, crypto.template_aad("s1", "c2", "tpl-1", "template"))  # moved to another candidate
    rotated = crypto.TemplateCipher(crypto.generate_key("k2") + "," + old_setting(old))
    assert rotated.active == "k2" and rotated.open(sealed, aad) == vec
    with pytest.raises(crypto.UnknownKey):
        crypto.TemplateCipher(crypto.generate_key("k3")).open(sealed, aad)


def old_setting(cipher: crypto.TemplateCipher) -> str:
    import base64

    raw = cipher._raw["k1"]
    return "k1:" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_claim_codes_are_derived_and_unambiguous():
    cipher = crypto.TemplateCipher(crypto.generate_key("k1"))
    code = cipher.claim_code("ovr-1")
    assert len(code) == 8 and code == cipher.claim_code("ovr-1", "k1") != cipher.claim_code("ovr-2")
    assert not set(code) & set("01OIL")
    assert crypto.code_digest(code.lower()) == crypto.code_digest(code)


def test_session_tokens_verify_and_are_deterministic():
    signing, public = generate_key("auth-face-1")
    issuer = SessionTokenIssuer(signing)
    token, _ = issuer.issue(session_id="ses-1", sitting_id="s", candidate_id="c", device_id="d", iat=1000,
                                 exp=2200, origin="face_login")
    again, _ = issuer.issue(session_id="ses-1", sitting_id="s", candidate_id="c", device_id="d", iat=1000,
                            exp=2200, origin="face_login")
    assert token == again
    got = TokenVerifier([public]).verify(token, now=1500)
    assert (got.role, got.jti, got.sitting_id, got.candidate_id, got.device_id) == (Role.CANDIDATE, "ses-1", "s", "c",
                                                                                      "d")

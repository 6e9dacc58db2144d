"""Password policy, TOTP matching, roles: the logic, without a database."""

from datetime import timedelta

import pyotp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtcc.auth import passwords, totp
from rtcc.auth.permissions import PERMISSIONS, ROLE_PERMISSIONS, ROLES, assert_complete
from rtcc.core import clock
from rtcc.settings import Settings
from rtcc.core.errors import InvalidInput
from support import CHEAP_PASSWORD_HASHING


@pytest.mark.parametrize("password, code", [
    ("short", "password_too_short"),
    ("Password123", "password_banned"),
    ("qwertyuiop", "password_banned"),
    ("Summer2026!", "password_banned"),
    ("aaaaaaaaaaaa", "password_banned"),
    ("xx-dana-rocks-xx", "password_contains_username"),
])
def test_weak_passwords_are_refused_with_the_reason(password, code):
    with pytest.raises(InvalidInput) as refused:
        passwords.check_password_policy(password, username="dana", min_length=8)
    assert refused.value.code == code


def test_a_reasonable_password_passes():
    passwords.check_password_policy("Tidal-Lantern-58", username="dana", min_length=8)


def test_an_easily_guessed_password_is_refused_with_the_estimators_advice():
    with pytest.raises(InvalidInput) as refused:
        passwords.check_password_policy("correcthorse", username="dana", min_length=8, min_strength=3)
    assert refused.value.code == "password_too_weak" and refused.value.status_code == 422
    assert "Add another word or two" in refused.value.message and refused.value.details["strength"] < 3
    passwords.check_password_policy("correcthorse", username="dana", min_length=8, min_strength=0)  # estimator off


def test_the_estimator_knows_the_users_own_name():
    passwords.check_password_policy("MarigoldFeatherstone", username="mf", min_length=8, min_strength=3)
    with pytest.raises(InvalidInput) as refused:
        passwords.check_password_policy("MarigoldFeatherstone", username="mf", min_length=8, min_strength=3,
                                        user_inputs=("Marigold Featherstone",))
    assert refused.value.code == "password_too_weak"


def test_the_longest_allowed_password_is_judged_without_error():
    passwords.check_password_policy("Tidal-Lantern-58-" * 15, username="dana", min_length=8, min_strength=3)


def test_hashes_are_argon2id_and_salted(tmp_path):
    settings = Settings(data_dir=tmp_path)
    first, second = (passwords.hash_password("Tidal-Lantern-58", settings=settings) for _ in range(2))
    assert first.startswith("$argon2id$") and first != second
    assert passwords.verify_password(first, "Tidal-Lantern-58", settings=settings)
    assert not passwords.verify_password(first, "tidal-lantern-58", settings=settings)
    assert not passwords.verify_password(None, "anything", settings=settings)


def test_production_argon2_parameters_hash_when_no_setting_is_given(tmp_path, monkeypatch):
    from argon2 import extract_parameters
    from argon2.profiles import RFC_9106_LOW_MEMORY

    for name in CHEAP_PASSWORD_HASHING:  # the suite's cheap hashing, set by conftest.py
        monkeypatch.delenv(name, raising=False)
    production = Settings(data_dir=tmp_path)
    hashed = passwords.hash_password("Tidal-Lantern-58", settings=production)
    used = extract_parameters(hashed)
    assert (used.time_cost, used.memory_cost, used.parallelism) == (3, 65536, 4)
    assert (used.time_cost, used.memory_cost, used.parallelism) == (
        RFC_9106_LOW_MEMORY.time_cost, RFC_9106_LOW_MEMORY.memory_cost, RFC_9106_LOW_MEMORY.parallelism)
    assert passwords.verify_password(hashed, "Tidal-Lantern-58", settings=production)
    assert not passwords.needs_rehash(hashed, settings=production)

    # A hash made with other (here the suite's cheap) parameters still verifies, and is due for a rehash.
    cheap = Settings(data_dir=tmp_path, password_hash_time_cost=1, password_hash_memory_kib=8, password_hash_parallelism=1)
    older = passwords.hash_password("Tidal-Lantern-58", settings=cheap)
    assert passwords.verify_password(older, "Tidal-Lantern-58", settings=production)
    assert passwords.needs_rehash(older, settings=production)


def test_argon2_memory_must_cover_its_lanes(tmp_path):
    with pytest.raises(ValueError, match="PARALLELISM"):
        Settings(data_dir=tmp_path, password_hash_memory_kib=16, password_hash_parallelism=4)


def test_one_time_passwords_satisfy_the_policy():
    for _ in range(20):
        passwords.check_password_policy(passwords.generate_one_time_password(), username="someone", min_length=8,
                                        min_strength=4)


def test_totp_accepts_one_step_of_drift_and_no_more():
    secret = pyotp.random_base32()
    now_step = int(clock.utcnow().timestamp() // 30)
    for offset, accepted in ((-2, False), (-1, True), (0, True), (1, True), (2, False)):
        code = pyotp.TOTP(secret).at((now_step + offset) * 30)
        found = totp.matching_step(secret, code, valid_window=1)
        assert (found == now_step + offset) if accepted else found is None or found != now_step + offset


@given(st.text(max_size=12))
@settings(max_examples=200)
def test_totp_never_accepts_garbage(code):
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    if code.strip().replace(" ", "") not in {pyotp.TOTP(secret).at(clock.utcnow().timestamp() + d) for d in (-30, 0, 30)}:
        assert totp.matching_step(secret, code, valid_window=1) is None


def test_the_qr_code_is_inline_svg():
    svg = totp.qr_svg(totp.provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", username="dana", issuer="OpenRTCC"))
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg[:200]


def test_every_role_is_declared_with_known_permissions():
    assert_complete()
    assert set(ROLE_PERMISSIONS) == set(ROLES)
    used = set().union(*ROLE_PERMISSIONS.values())
    assert used <= set(PERMISSIONS)


def test_oversight_is_separated_from_surveillance():
    assert "audit.read" not in ROLE_PERMISSIONS["admin"]  # admins cannot read the record of their own actions
    assert "cameras.view" not in ROLE_PERMISSIONS["auditor"]


def test_clock_is_utc_to_the_millisecond():
    now = clock.utcnow()
    assert now.utcoffset() == timedelta(0) and now.microsecond % 1000 == 0
    assert clock.iso(now).endswith("Z") and len(clock.iso(now)) == 24

"""Password policy, TOTP matching, roles: the logic, without a database."""

from datetime import timedelta

import pyotp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtcc.auth import passwords, totp
from rtcc.auth.permissions import PERMISSIONS, ROLE_PERMISSIONS, ROLES, assert_complete
from rtcc.core import clock
from rtcc.core.errors import InvalidInput


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


def test_hashes_are_argon2id_and_salted():
    first, second = passwords.hash_password("Tidal-Lantern-58"), passwords.hash_password("Tidal-Lantern-58")
    assert first.startswith("$argon2id$") and first != second
    assert passwords.verify_password(first, "Tidal-Lantern-58")
    assert not passwords.verify_password(first, "tidal-lantern-58")
    assert not passwords.verify_password(None, "anything")


def test_one_time_passwords_satisfy_the_policy():
    for _ in range(20):
        passwords.check_password_policy(passwords.generate_one_time_password(), username="someone", min_length=8)


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

"""Password hashing (Argon2id) and the password policy (CJIS 5.6.2.1.1)."""

from __future__ import annotations

import secrets
import string
from functools import lru_cache
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from rtcc.core.errors import InvalidInput

_hasher = PasswordHasher()  # argon2-cffi's defaults are Argon2id with RFC 9106 low-memory parameters
# Verified against when the account does not exist, so a wrong username costs the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-timing")
MAX_PASSWORD_LENGTH = 256


@lru_cache(maxsize=1)
def banned_passwords() -> frozenset[str]:
    """Commonly used and compromised passwords, shipped with the package (lower case)."""
    text = files("rtcc.auth").joinpath("banned_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password_policy(password: str, *, username: str, min_length: int) -> None:
    """Raise InvalidInput saying what is wrong with a proposed password."""
    if len(password) < min_length:
        raise InvalidInput(f"Password must be at least {min_length} characters long.", code="password_too_short")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"Password must be at most {MAX_PASSWORD_LENGTH} characters long.", code="password_too_long")
    lowered = password.lower()
    if lowered in banned_passwords() or lowered.rstrip(string.digits + "!@#$.") in banned_passwords():
        raise InvalidInput("That password is on the list of common or compromised passwords.", code="password_banned")
    if username and username.lower() in lowered:
        raise InvalidInput("Password must not contain the username.", code="password_contains_username")
    if len(set(password)) < 4:
        raise InvalidInput("Password is too repetitive.", code="password_banned")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; constant work whether or not the account exists."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def generate_one_time_password() -> str:
    """A random temporary password (must be changed at first sign-in)."""
    alphabet = string.ascii_letters + string.digits
    groups = ["".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4)]
    return "-".join(groups)

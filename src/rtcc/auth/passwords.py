"""Password hashing (Argon2id, parameters from the settings) and the password policy (CJIS 5.6.2.1.1)."""

from __future__ import annotations

import secrets
import string
from functools import lru_cache
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

from rtcc.auth.settings import AuthSettings
from rtcc.core.errors import InvalidInput

MAX_PASSWORD_LENGTH = 256
# zxcvbn refuses longer input (its matching is quadratic); a password this long is judged on its start.
STRENGTH_CHECKED_LENGTH = 72
STRENGTH_LABELS = ("very weak", "weak", "fair", "strong", "very strong")


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def password_hasher(settings: AuthSettings) -> PasswordHasher:
    """The Argon2id hasher the settings ask for (production defaults: RFC 9106 low-memory)."""
    return _hasher(settings.password_hash_time_cost, settings.password_hash_memory_kib, settings.password_hash_parallelism)


@lru_cache(maxsize=8)
def _dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    # Verified against when the account does not exist, with the same parameters as real hashes,
    # so an unknown username costs the same time as a wrong password.
    return _hasher(time_cost, memory_kib, parallelism).hash("not-a-real-password-only-for-timing")


@lru_cache(maxsize=1)
def banned_passwords() -> frozenset[str]:
    """Commonly used and compromised passwords, shipped with the package (lower case)."""
    text = files("rtcc.auth").joinpath("banned_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password_policy(
    password: str, *, username: str, min_length: int, min_strength: int = 0, user_inputs: tuple[str, ...] = (),
) -> None:
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
    if min_strength > 0:
        _check_strength(password, min_strength=min_strength, user_inputs=(username, *user_inputs))


def _check_strength(password: str, *, min_strength: int, user_inputs: tuple[str, ...]) -> None:
    """Refuse a password zxcvbn scores below min_strength, passing on its warning and suggestions."""
    # Names are split so "Dana Whitfield" also rejects "whitfield" on its own.
    inputs = [word for value in user_inputs if value for word in (value, *value.replace(".", " ").split()) if len(word) > 1]
    estimate = zxcvbn(password[:STRENGTH_CHECKED_LENGTH], user_inputs=inputs, max_length=STRENGTH_CHECKED_LENGTH)
    score = estimate["score"]
    if score >= min_strength:
        return
    feedback = estimate["feedback"]
    advice = " ".join(part for part in [feedback.get("warning") or "", *feedback.get("suggestions", [])] if part)
    raise InvalidInput(
        f"That password is too easy to guess ({STRENGTH_LABELS[score]}; it must be at least "
        f"{STRENGTH_LABELS[min_strength]}). {advice or 'Add another word or two; uncommon words are better.'}",
        code="password_too_weak",
        details={"strength": score, "min_strength": min_strength, "warning": feedback.get("warning") or None,
                 "suggestions": feedback.get("suggestions", [])},
    )


def hash_password(password: str, *, settings: AuthSettings) -> str:
    """An Argon2id hash of the password, salted, with the settings' parameters."""
    return password_hasher(settings).hash(password)


def verify_password(password_hash: str | None, password: str, *, settings: AuthSettings) -> bool:
    """Whether the password matches; constant work whether or not the account exists.

    A hash made with other parameters (older settings) still verifies: Argon2 hashes carry their own.
    """
    parameters = (settings.password_hash_time_cost, settings.password_hash_memory_kib, settings.password_hash_parallelism)
    try:
        return _hasher(*parameters).verify(password_hash or _dummy_hash(*parameters), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, *, settings: AuthSettings) -> bool:
    """Whether the hash was made with other parameters than the settings' (rehashed at the next sign-in)."""
    return password_hasher(settings).check_needs_rehash(password_hash)


def generate_one_time_password() -> str:
    """A random temporary password (must be changed at first sign-in)."""
    alphabet = string.ascii_letters + string.digits
    groups = ["".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4)]
    return "-".join(groups)

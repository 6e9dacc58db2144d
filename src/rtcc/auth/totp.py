"""TOTP (RFC 6238) second factor: secrets encrypted at rest, each code accepted once."""

from __future__ import annotations

import io

import pyotp
import qrcode
import qrcode.image.svg

from rtcc.core import clock

STEP_SECONDS = 30


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, *, username: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The URI as an inline SVG QR code (no image libraries, nothing fetched)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode("utf-8")


def qr_text(uri: str) -> str:
    """The URI as a QR code drawn with characters, for a terminal."""
    code = qrcode.QRCode(border=1)
    code.add_data(uri)
    buffer = io.StringIO()
    code.print_ascii(out=buffer, invert=True)
    return buffer.getvalue()


def matching_step(secret: str, code: str, *, valid_window: int) -> int | None:
    """The time step the code belongs to (within the drift window), or None if it matches none."""
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = clock.utcnow().timestamp()
    current = int(now // STEP_SECONDS)
    for offset in range(-valid_window, valid_window + 1):
        step = current + offset
        if pyotp.utils.strings_equal(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def code_at_now(secret: str) -> str:
    """The current code (for tests and the demo's scripted walkthrough)."""
    return pyotp.TOTP(secret).at(clock.utcnow().timestamp())

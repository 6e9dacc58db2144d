"""First-start credentials handed over in a file (the demo's accounts): written once, removed at enrolment.

The file lives in the data dir, mode 0600. Each account's lines go as soon as it has enrolled its own
authenticator: its TOTP key must not outlive the enrolment it was for.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

CREDENTIALS_FILE = "demo-credentials.txt"


def handover_lines(username: str, new) -> str:
    """One account's first-start credentials, as the handover file and the demo's console print them."""
    return (
        f"username:            {username}\n"
        f"one-time password:   {new.one_time_password}   (you will choose your own at first sign-in)\n"
        f"authenticator key:   {new.totp_secret}   (TOTP, 6 digits, 30 s)\n"
        f"otpauth URI:         {new.totp_uri}\n"
    )


def _handover_username(block: str) -> str | None:
    first = block.strip().splitlines()[0] if block.strip() else ""
    if not first.startswith("username:"):
        return None
    return first.partition(":")[2].strip() or None


def forget_handover(data_dir: Path, username: str) -> bool:
    """Remove an account's first-start credentials from the demo's file once it has enrolled (the file goes when
    empty); returns whether any were removed. Its TOTP key must not outlive the enrolment it was for."""
    path = data_dir / CREDENTIALS_FILE
    try:
        handle = open(path, "r+", encoding="utf-8")
    except FileNotFoundError:
        return False
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # two enrolments at once must not write back each other's lines
        blocks = [block for block in handle.read().split("\n\n") if block.strip()]
        kept = [block for block in blocks if _handover_username(block) != username]
        if len(kept) == len(blocks):
            return False
        if not kept:
            path.unlink()
            return True
        handle.seek(0)
        handle.truncate()
        handle.write("".join(block.strip("\n") + "\n\n" for block in kept))
    return True

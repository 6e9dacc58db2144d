"""Keys kept in the key dir: the secret that encrypts stored secrets, and the audit signing key.

The key dir is RTCC_KEY_DIR, kept out of the data dir's reach in production (another account owns
it), so whoever can write the database or the data dir cannot re-sign a rewritten audit chain.
Installs from before RTCC_KEY_DIR keep their keys at DATA_DIR/keys; see `effective_key_dir`.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

log = logging.getLogger(__name__)
SECRET_KEY_FILE = "secret.key"
AUDIT_PRIVATE_KEY_FILE = "audit-signing.pem"
AUDIT_PUBLIC_KEY_FILE = "audit-signing.pub.pem"
KEY_FILES = (SECRET_KEY_FILE, AUDIT_PRIVATE_KEY_FILE, AUDIT_PUBLIC_KEY_FILE)
LEGACY_KEY_DIR = "keys"  # under the data dir, where every install kept its keys before RTCC_KEY_DIR


def legacy_key_dir(data_dir: Path) -> Path:
    """Where installs from before RTCC_KEY_DIR keep their keys."""
    return Path(data_dir) / LEGACY_KEY_DIR


def _holds_keys(directory: Path) -> bool:
    try:
        return any((directory / name).exists() for name in KEY_FILES)
    except PermissionError:  # a key dir we may not list is someone else's: assume it holds the keys
        return True


def effective_key_dir(key_dir: Path | None, data_dir: Path) -> Path:
    """The key dir to use: RTCC_KEY_DIR, unless it is still empty while DATA_DIR/keys holds keys.

    The fallback keeps an upgraded install working (a new secret.key would make every stored
    camera credential and TOTP seed unreadable) until the operator moves the files; it never
    mixes keys from both places, and it is reported by `key_dir_warnings`.
    """
    legacy = legacy_key_dir(data_dir)
    if key_dir is None:
        return legacy
    key_dir = Path(key_dir).expanduser()
    if not _holds_keys(key_dir) and _holds_keys(legacy):
        return legacy
    return key_dir


def key_dir_warnings(key_dir: Path | None, data_dir: Path) -> list[str]:
    """What a production server should shout about: signing keys within reach of the data dir."""
    used = effective_key_dir(key_dir, data_dir).resolve()
    data = Path(data_dir).resolve()
    if key_dir is not None and used == legacy_key_dir(data_dir).resolve():
        return [(f"RTCC_KEY_DIR={key_dir} holds no keys yet, so the keys are still read from {used}: "
                 f"move everything in it ({', '.join(KEY_FILES)}, the checkpoint log) there and restart")]
    if used == data or data in used.parents:
        return [(f"the audit signing key is in {used}, inside the data dir {data}: anyone who can write the "
                 "data dir can re-sign a rewritten audit chain. Set RTCC_KEY_DIR to a directory owned by another account")]
    return []


def _write_private(path: Path, data: bytes) -> None:
    if not path.parent.exists():
        # Only a directory we create is ours to restrict; an existing one may belong to another account.
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
    # O_EXCL: two processes starting together must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def public_key_id(public_key: Ed25519PublicKey) -> str:
    """A short, stable name of a public key: the first 16 hex digits of SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    """The public key as SubjectPublicKeyInfo PEM text, to publish."""
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


class KeyRing:
    """Loads (creating on first use) the keys of one key dir."""

    def __init__(self, keys_dir: Path):
        self.keys_dir = Path(keys_dir)
        self._fernet: Fernet | None = None
        self._audit_key: Ed25519PrivateKey | None = None

    def fernet(self) -> Fernet:
        """Symmetric encryption for secrets at rest (TOTP seeds, camera credentials)."""
        if self._fernet is None:
            path = self.keys_dir / SECRET_KEY_FILE
            if not path.exists():
                _write_private(path, Fernet.generate_key())
            self._fernet = Fernet(path.read_bytes().strip())
        return self._fernet

    def encrypt(self, plaintext: str) -> str:
        return self.fernet().encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        return self.fernet().decrypt(token.encode()).decode()

    def audit_signing_key(self) -> Ed25519PrivateKey:
        """The Ed25519 key that signs the audit chain head and its checkpoints (created on first use)."""
        if self._audit_key is None:
            path = self.keys_dir / AUDIT_PRIVATE_KEY_FILE
            if not path.exists():
                key = Ed25519PrivateKey.generate()
                _write_private(
                    path,
                    key.private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    ),
                )
                # The public half is written once, by whoever made the key; verifiers read it.
                public_path = self.keys_dir / AUDIT_PUBLIC_KEY_FILE
                if not public_path.exists():
                    public_path.write_text(public_key_pem(self._load_private(path).public_key()))
            self._audit_key = self._load_private(path)
        return self._audit_key

    @staticmethod
    def _load_private(path: Path) -> Ed25519PrivateKey:
        return serialization.load_pem_private_key(path.read_bytes(), password=None)

    def audit_public_key(self) -> Ed25519PublicKey | None:
        """The public half, for verifiers; None when no chain was ever signed here. Never writes."""
        public_path = self.keys_dir / AUDIT_PUBLIC_KEY_FILE
        if public_path.exists():
            return serialization.load_pem_public_key(public_path.read_bytes())
        private_path = self.keys_dir / AUDIT_PRIVATE_KEY_FILE
        if private_path.exists():
            return self._load_private(private_path).public_key()
        return None

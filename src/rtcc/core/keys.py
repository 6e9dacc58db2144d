"""Keys kept in the data dir: the secret that encrypts stored secrets, and the audit signing key."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SECRET_KEY_FILE = "secret.key"
AUDIT_PRIVATE_KEY_FILE = "audit-signing.pem"
AUDIT_PUBLIC_KEY_FILE = "audit-signing.pub.pem"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    # O_EXCL: two processes starting together must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


class KeyRing:
    """Loads (creating on first use) the keys of one data dir."""

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
        """The Ed25519 key that signs the audit chain head."""
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
            self._audit_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            public_path = self.keys_dir / AUDIT_PUBLIC_KEY_FILE
            if not public_path.exists():
                public_path.write_bytes(
                    self._audit_key.public_key().public_bytes(
                        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                    )
                )
        return self._audit_key

    def audit_public_key(self) -> Ed25519PublicKey | None:
        """The public half, for verifiers; None when no chain was ever signed here."""
        public_path = self.keys_dir / AUDIT_PUBLIC_KEY_FILE
        if public_path.exists():
            return serialization.load_pem_public_key(public_path.read_bytes())
        if (self.keys_dir / AUDIT_PRIVATE_KEY_FILE).exists():
            return self.audit_signing_key().public_key()
        return None

"""The signer port: what signs the audit head and its checkpoints, and the file-key adapter.

The chain needs only `sign`, `public_key` and `key_id`, so a key held in an HSM (a PKCS#11
adapter) can stand in for the file key without the chain code changing.
"""

from __future__ import annotations

from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from rtcc.core.keys import KeyRing, public_key_id


class AuditSigner(Protocol):
    """Signs audit heads and checkpoints with one Ed25519 key."""

    def sign(self, message: bytes) -> bytes:
        """The Ed25519 signature of message."""

    def public_key(self) -> Ed25519PublicKey:
        """The public half, for verifiers."""

    def key_id(self) -> str:
        """Short name of the key (see keys.public_key_id), written into every checkpoint."""


class FileKeySigner:
    """The Ed25519 key in the key dir's audit-signing.pem."""

    def __init__(self, keys: KeyRing):
        self.keys = keys

    def sign(self, message: bytes) -> bytes:
        """The Ed25519 signature of message."""
        return self.keys.audit_signing_key().sign(message)

    def public_key(self) -> Ed25519PublicKey:
        """The public half, for verifiers."""
        return self.keys.audit_signing_key().public_key()

    def key_id(self) -> str:
        """Short name of the key."""
        return public_key_id(self.public_key())


def signer_for(keys: KeyRing) -> AuditSigner:
    """The signer the keys name (today the file key; an HSM adapter plugs in here)."""
    return FileKeySigner(keys)


def signature_valid(public_key: Ed25519PublicKey, signature_hex: str, message: bytes) -> bool:
    """Whether signature_hex is public_key's signature of message (malformed hex counts as invalid)."""
    try:
        public_key.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True

"""Encryption of users' API keys at rest (Fernet) and the storage secret it depends on."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .types import UndecryptableKeyError

SECRET_FILE = "secret.key"
_HKDF_INFO = b"vocu-bot/storage/api-keys/v1"


def fernet_for(secret: str) -> Fernet:
    """A Fernet for `secret`: a Fernet key is used as is, any other string is stretched (HKDF).

    The secret is expected to be high-entropy (generated, or from a secret manager), so a fast
    KDF is enough; it is not meant to be a human password.
    """
    try:
        return Fernet(secret.encode())
    except (ValueError, binascii.Error):
        pass
    if not secret:
        raise ValueError("the storage secret must not be empty")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def load_or_create_secret(data_dir: Path) -> str:
    """Read `<data_dir>/secret.key`, creating it (mode 0600) with a new Fernet key if absent.

    Creation is atomic (write a private temporary file, then hard-link it into place), so two
    processes starting together agree on one secret.
    """
    path = data_dir / SECRET_FILE
    if path.exists():
        return _read_secret(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(Fernet.generate_key().decode() + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won the race: use its secret
    finally:
        tmp.unlink(missing_ok=True)
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    """The stripped content of a secret file, which must not be empty."""
    value = path.read_text().strip()
    if not value:
        raise ValueError(f"{path} is empty")
    return value


class KeyBox:
    """Encrypts and decrypts API keys with one Fernet."""

    def __init__(self, secret: str) -> None:
        self._fernet = fernet_for(secret)

    def seal(self, plain: str) -> str:
        """Encrypt `plain`; the token is ASCII and differs on every call."""
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, token: str) -> str:
        """Decrypt a token made by `seal`."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken as exc:
            raise UndecryptableKeyError("stored key does not match the storage secret") from exc

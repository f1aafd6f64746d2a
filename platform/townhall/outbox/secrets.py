"""Webhook signing secrets: `whsec_` + base64 (Standard Webhooks), shown once, stored encrypted.

A signing secret has to be read back to sign, so it cannot be hashed like a client secret; it is
encrypted (Fernet: AES-128-CBC and HMAC-SHA256) with a key derived from the platform's secret key.
"""

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class Sealer:
    def __init__(self, platform_key: str) -> None:
        digest = hashlib.sha256(b"townhall webhook secrets\x00" + platform_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as error:  # the platform key changed: rotate the subscription's secret
            raise ValueError("this secret was sealed with another platform key") from error

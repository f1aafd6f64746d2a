"""Signing keys as the token issuer and verifiers need them, cached in process.

Verifying a token must not read the database: the key set is reloaded at most every
`REFRESH_SECONDS`, or at once when a token names a key id we do not know yet (a rotation elsewhere).
"""

import threading
import time
from datetime import timedelta

from joserfc.jwk import ECKey, KeySet
from sqlalchemy.orm import Session

from townhall.auth.keys import active_key, all_keys, private_key, public_key_set
from townhall.errors import TownhallError

REFRESH_SECONDS = 60.0


class NoSigningKey(TownhallError):
    title = "Service unavailable"


class Keyring:
    def __init__(self, token_lifetime: timedelta) -> None:
        self.token_lifetime = token_lifetime
        self._lock = threading.Lock()
        self._loaded_at = float("-inf")
        self._signing: ECKey | None = None
        self._public = KeySet([])
        self._kids: frozenset[str] = frozenset()

    def _load(self, session: Session) -> None:
        active = active_key(session)
        if active is None:
            raise NoSigningKey("No token signing key yet: run `townhall keys rotate`.")
        keys = all_keys(session)
        with self._lock:
            self._signing = private_key(active)
            self._public = public_key_set(keys)
            self._kids = frozenset(k.kid for k in keys)
            self._loaded_at = time.monotonic()

    def _fresh(self, session: Session, kid: str | None = None) -> None:
        stale = time.monotonic() - self._loaded_at > REFRESH_SECONDS
        if stale or self._signing is None or (kid is not None and kid not in self._kids):
            self._load(session)

    def signing_key(self, session: Session) -> ECKey:
        self._fresh(session)
        assert self._signing is not None
        return self._signing

    def public_keys(self, session: Session, kid: str | None = None) -> KeySet:
        self._fresh(session, kid)
        return self._public

    def forget(self) -> None:
        """Drop the cache (after `townhall keys rotate` in this process)."""
        self._loaded_at = float("-inf")



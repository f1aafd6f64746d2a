"""Signing keys as the token issuer and verifiers need them, cached in process.

Verifying a token must not read the database: the key set is reloaded at most every `ttl` seconds
(TOWNHALL_SIGNING_KEY_CACHE_SECONDS), at once when a token names a key id we do not know yet (a
rotation elsewhere), and when a rotation is announced (ADR 0010).
"""

from dataclasses import dataclass
from datetime import timedelta

from joserfc.jwk import ECKey, KeySet
from sqlalchemy.orm import Session

from townhall.auth.keys import active_key, all_keys, private_key, public_key_set
from townhall.cache import TimedCache
from townhall.errors import TownhallError

_KEYS = "keys"  # the one entry of the keyring's cache


class NoSigningKey(TownhallError):
    title = "Service unavailable"


@dataclass(frozen=True)
class _Keys:
    signing: ECKey
    public: KeySet
    kids: frozenset[str]


class Keyring:
    def __init__(self, token_lifetime: timedelta, ttl: float = 60.0) -> None:
        self.token_lifetime = token_lifetime
        self._cache: TimedCache[str, _Keys] = TimedCache(ttl)

    def _load(self, session: Session) -> _Keys:
        read = self._cache.begin()
        active = active_key(session)
        if active is None:
            raise NoSigningKey("No token signing key yet: run `townhall keys rotate`.")
        keys = all_keys(session)
        loaded = _Keys(private_key(active), public_key_set(keys), frozenset(k.kid for k in keys))
        self._cache.put(_KEYS, loaded, read)
        return loaded

    def _fresh(self, session: Session, kid: str | None = None) -> _Keys:
        cached = self._cache.get(_KEYS)
        if cached is None or (kid is not None and kid not in cached.kids):
            return self._load(session)
        return cached

    def signing_key(self, session: Session) -> ECKey:
        return self._fresh(session).signing

    def public_keys(self, session: Session, kid: str | None = None) -> KeySet:
        return self._fresh(session, kid).public

    def forget(self) -> None:
        """Drop the cache (after `townhall keys rotate` in this process, or one announced)."""
        self._cache.clear()

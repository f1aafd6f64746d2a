"""The caches of request-time facts, and how each process hears that one of them changed (ADR 0010).

On PostgreSQL a `ChangeListener` hears what writers `announce` (LISTEN/NOTIFY) and drops the
matching entries; on SQLite (one machine, no channel) entries live at most one second.
"""

import uuid

from flask import Flask

from api.oauth.endpoints import RevocationList
from api.oauth.keyring import Keyring
from api.settings import Settings
from tenants.registry import TenantCache
from townhall.cache import Freshness
from townhall.invalidation import ChangeListener, Unheard


class Subscriber:
    """What a change notice means for this app's caches."""

    def __init__(self, tenants: TenantCache, revocations: RevocationList, keyring: Keyring) -> None:
        self.tenants = tenants
        self.revocations = revocations
        self.keyring = keyring

    def changed(self, subject: str) -> None:
        kind, _, key = subject.partition(":")
        if kind == "tenant":
            self.tenants.forget(key)
        elif kind == "revocations":
            self.revocations.forget(uuid.UUID(key))
        elif kind == "keys":
            self.keyring.forget()

    def reset(self) -> None:
        self.tenants.clear()
        self.revocations.clear()
        self.keyring.forget()


def install_caches(app: Flask, settings: Settings, keyring: Keyring) -> None:
    """The tenant cache and the revocation list (TOWNHALL_TENANT_CACHE_SECONDS and
    TOWNHALL_REVOCATION_CACHE_SECONDS), kept true by the change channel where there is one; it
    drops the keyring's key set too when a rotation is announced."""
    freshness: Freshness
    cached = settings.tenant_cache_seconds > 0 or settings.revocation_cache_seconds > 0
    if settings.database_backend == "postgresql" and cached:
        listener = ChangeListener(settings.listen_database_url)
        app.extensions["townhall.changes"] = freshness = listener
    else:
        freshness = Unheard()  # nothing to listen to (or nothing cached): at most one second
    tenants = TenantCache(settings.tenant_cache_seconds, freshness=freshness)
    revocations = RevocationList(settings.revocation_cache_seconds, freshness)
    app.extensions["townhall.tenant_cache"] = tenants
    app.extensions["townhall.revocations"] = revocations
    if isinstance(freshness, ChangeListener):
        subscriber = Subscriber(tenants, revocations, keyring)
        freshness.subscribe(subscriber.changed, subscriber.reset)

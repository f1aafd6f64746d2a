"""Token signing keys (ES256): rotation and the published key set.

Rotation publishes the next key before it signs, and keeps a retired key published until every
token it signed has expired, so verifiers holding a cached JWKS never meet an unknown `kid`.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from joserfc.jwk import ECKey, KeySet
from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall.auth.models import KeyStatus, SigningKey
from townhall.clock import utcnow
from townhall.ids import new_id
from townhall.invalidation import announce

ALGORITHM = "ES256"


def _generate() -> SigningKey:
    kid = new_id().hex
    key = ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig", "alg": ALGORITHM}, private=True)
    return SigningKey(kid=kid, alg=ALGORITHM, private_jwk=key.as_dict(private=True), status=KeyStatus.NEXT)


def all_keys(session: Session) -> Sequence[SigningKey]:
    return session.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()


def rotate(session: Session, token_lifetime: timedelta, now: datetime | None = None) -> SigningKey:
    """Activate the published next key (or a new one), retire the active one, publish a new next
    key, and forget retired keys whose tokens have all expired. Returns the key now signing."""
    now = now or utcnow()
    keys = all_keys(session)
    for key in keys:
        if key.status is KeyStatus.ACTIVE:
            key.status, key.retired_at = KeyStatus.RETIRED, now
        elif key.status is KeyStatus.RETIRED and key.retired_at and key.retired_at + token_lifetime < now:
            session.delete(key)
    upcoming = next((k for k in keys if k.status is KeyStatus.NEXT), None)
    if upcoming is None:
        upcoming = _generate()
        session.add(upcoming)
    upcoming.status = KeyStatus.ACTIVE
    session.add(_generate())
    session.flush()
    announce(session, "keys")  # every verifier reloads the key set at once
    return upcoming


def active_key(session: Session) -> SigningKey | None:
    return session.scalars(select(SigningKey).where(SigningKey.status == KeyStatus.ACTIVE)).first()


def ensure_signing_key(session: Session, token_lifetime: timedelta) -> SigningKey:
    """The active key, creating the first one when there is none (set-up and demo, never requests)."""
    return active_key(session) or rotate(session, token_lifetime)


def private_key(key: SigningKey) -> ECKey:
    return ECKey.import_key(key.private_jwk)


def public_key_set(keys: Sequence[SigningKey]) -> KeySet:
    return KeySet([ECKey.import_key({k: v for k, v in key.private_jwk.items() if k != "d"}) for key in keys])


def verification_keys(session: Session) -> dict[str, ECKey]:
    """The public part of every key still known, by `kid` (what checks a signature made with it)."""
    return {key.kid: ECKey.import_key({k: v for k, v in key.private_jwk.items() if k != "d"})
            for key in all_keys(session)}

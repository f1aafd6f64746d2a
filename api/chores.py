"""What runs now and then beside requests, for every municipality: signing the audit chains'
heads and applying retention. `townhall audit seal`, `townhall retention run` and the worker call
these; each municipality's share is its own short transaction."""

from datetime import UTC, datetime

from tenants.queries import all_tenants
from townhall.audit.operations import seal
from townhall.auth.keys import active_key
from townhall.db import Database
from townhall.tenancy import tenant_scope


def seal_heads(database: Database, now: datetime | None = None) -> int:
    """Sign each chain's head that moved since it was last signed; how many were signed."""
    with database.sessions() as session:
        targets = [tenant.id for tenant in all_tenants(session)]
    signed = 0
    for tenant_id in targets:
        with database.unit_of_work() as session:
            key = active_key(session)
            if key is None:  # no key yet: nothing signs before the platform is set up
                return signed
            with tenant_scope(session, tenant_id):
                signed += seal(session, tenant_id, key, now or datetime.now(UTC)) is not None
    return signed

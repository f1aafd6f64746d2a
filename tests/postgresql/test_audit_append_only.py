"""On PostgreSQL the app's own role can add audit entries and nothing else: no UPDATE, DELETE or
TRUNCATE (not granted, and a trigger refuses them), whatever the code would try."""

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from api.database import database
from tenants.models import Tenant
from tenants.operations import create_tenant
from townhall.audit.operations import append
from townhall.db import make_engine
from townhall.tenancy import tenant_scope

pytestmark = [pytest.mark.postgresql, pytest.mark.committed]


def _aalst_with_one_entry() -> Tenant:
    with database().unit_of_work() as session:
        tenant = create_tenant(session, {"slug": "aalst", "nis_code": "41002", "default_language": "nl",
                                         "languages": ["nl"], "names": {"nl": "Aalst"}}, "test")
        with tenant_scope(session, tenant.id):
            append(session, tenant.id, "test", "POST /x", "/x", {"status": 201})
    return tenant


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET actor = 'user:someone-else'",
    "DELETE FROM audit_entries",
    "TRUNCATE audit_entries",
    "UPDATE audit_seals SET kid = 'forged'",
    "DELETE FROM audit_seals",
    "TRUNCATE audit_seals",
])
def test_the_app_role_cannot_change_or_remove_an_entry(live_app: Flask, statement: str) -> None:
    with live_app.app_context():
        tenant = _aalst_with_one_entry()
        with database().sessions() as session, tenant_scope(session, tenant.id), pytest.raises(DBAPIError) as refused:
            session.execute(text(statement))
        assert "permission denied" in str(refused.value) or "append-only" in str(refused.value)
        with database().sessions() as session, tenant_scope(session, tenant.id):
            assert session.execute(text("SELECT actor FROM audit_entries")).scalars().all() == ["test"]


def test_even_with_the_privilege_granted_back_the_trigger_refuses(live_app: Flask) -> None:
    settings = live_app.config["TOWNHALL_SETTINGS"]
    app_role = make_url(settings.database_url).username
    owner = make_engine(settings.migration_database_url)
    with owner.begin() as connection:
        connection.execute(text(f'GRANT UPDATE, DELETE ON audit_entries TO "{app_role}"'))
    try:
        with live_app.app_context():
            tenant = _aalst_with_one_entry()
            with database().sessions() as session, tenant_scope(session, tenant.id), \
                    pytest.raises(DBAPIError, match="append-only"):
                session.execute(text("UPDATE audit_entries SET actor = 'user:someone-else'"))
    finally:
        with owner.begin() as connection:
            connection.execute(text(f'REVOKE UPDATE, DELETE ON audit_entries FROM "{app_role}"'))
        owner.dispose()

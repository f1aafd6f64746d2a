"""A service is one module and one registry line: generic case code asks the `ServiceType`'s
hooks (finished at once, the certificate it issues, duplicate detection) and never names a service."""

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import pytest
from flask import Flask
from marshmallow import Schema, fields
from sqlalchemy import select

from api.database import database
from tenants.models import Tenant
from townhall.auth.models import User
from townhall.auth.scopes import CASE_WORKER
from townhall.cases.models import Case, CaseDocument, Certificate
from townhall.cases.operations import move_case, open_case
from townhall.ids import new_id
from townhall.services import registry
from townhall.services.base import (
    STAFF,
    SYSTEM,
    IssuedDocument,
    Issuing,
    OpenCases,
    ServiceType,
    Transition,
    Workflow,
)
from townhall.services.operations import configure_service
from townhall.tenancy import Municipality, tenant_scope


class Notice(Schema):
    title = fields.String(required=True)


def _same_title(form: Mapping[str, Any], open_cases: OpenCases) -> str | None:
    return next((reference for reference, other in open_cases() if other["title"] == form["title"]), None)


def _slip(issuing: Issuing) -> IssuedDocument:
    return IssuedDocument(kind="slip", filename=f"{issuing.reference}.pdf",
                          content=b"%PDF-1.4 " + issuing.verification_code.encode())


def _service(code: str, workflow: Workflow, **hooks: Any) -> ServiceType:
    """What a new service's module declares: its SERVICE, with the hooks it needs."""
    return ServiceType(code=code, names={"en": code}, descriptions={"en": code}, form=Notice, workflow=workflow,
                       processing_days=5, fee_cents=0, **hooks)


NOTICEBOARD = _service("noticeboard", Workflow(
    states=("posted", "archived"), initial="posted", transitions=(Transition("posted", "archived", STAFF),),
    terminal=frozenset({"archived"})), possible_duplicate=_same_title)
SLIP = _service("slip", Workflow(
    states=("asked", "given"), initial="asked", transitions=(Transition("asked", "given", frozenset({SYSTEM})),),
    terminal=frozenset({"given"})), issues=_slip)


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry line: each SERVICE under its code."""
    for service in (NOTICEBOARD, SLIP):
        monkeypatch.setitem(registry.SERVICE_TYPES, service.code, service)


def test_a_new_service_s_hooks_decide_duplicates_and_what_the_platform_issues(
    app: Flask, make_tenant: Callable[..., Tenant], registered: None
) -> None:
    tenant = make_tenant("aalst", "41002")
    aalst = Municipality(tenant.id, "aalst", "Aalst", "https://townhall.test/t/aalst/v1")
    storage = app.extensions["townhall.storage"]
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, tenant.id):
        person = User(id=new_id(), email="an@example.org", email_key="an@example.org", display_name="An")
        session.add(person)
        for code in ("noticeboard", "slip"):
            configure_service(session, tenant.id, code, {})

        first, _ = open_case(session, storage, aalst, "noticeboard", {"title": "Lost cat"}, person.id, "test",
                             date.today())
        second, _ = open_case(session, storage, aalst, "noticeboard", {"title": "Lost cat"}, person.id, "test",
                              date.today())
        other, _ = open_case(session, storage, aalst, "noticeboard", {"title": "Found dog"}, person.id, "test",
                             date.today())
        assert (first.possible_duplicate_of, second.possible_duplicate_of) == (None, first.reference)
        assert other.possible_duplicate_of is None and other.status == "posted"

        slip, steps = open_case(session, storage, aalst, "slip", {"title": "Parking"}, person.id, "test", date.today())
        assert slip.status == "given" and [step.to_status for step in steps] == ["asked", "given"]
        certificate = session.scalars(select(Certificate).where(Certificate.case_id == slip.id)).one()
        document = session.get(CaseDocument, (tenant.id, certificate.document_id))
        assert certificate.kind == "slip" and document is not None and document.filename == f"{slip.reference}.pdf"
        assert storage.get(document.storage_key).endswith(certificate.verification_code.encode())

        move_case(session, session.get_one(Case, (tenant.id, first.id)), "archived", CASE_WORKER, "test")
        again, _ = open_case(session, storage, aalst, "noticeboard", {"title": "Lost cat"}, person.id, "test",
                             date.today())
        assert again.possible_duplicate_of == second.reference  # only open cases count

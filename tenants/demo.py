"""The demo consortium: real municipalities of the Dender region, with made-up branding."""

from typing import Any

from sqlalchemy.orm import Session

from tenants.models import Tenant
from tenants.operations import create_tenant, update_branding
from tenants.queries import branding_of, tenant_by_slug
from townhall.appointments.operations import save_office
from townhall.appointments.queries import offices_of
from townhall.appointments.schemas import OfficeInput
from townhall.rules.operations import create_rule, publish_template
from townhall.rules.queries import latest_template
from townhall.services.operations import configure_service
from townhall.services.registry import SERVICE_TYPES
from townhall.tenancy import tenant_scope
from townhall.validation import load

DEMO_ACTOR = "demo-seed"

DEMO_TENANTS: list[dict[str, Any]] = [
    {
        "tenant": {"slug": "aalst", "nis_code": "41002", "default_language": "nl", "plan": "large",
                   "languages": ["nl", "fr", "en"],
                   "names": {"nl": "Aalst", "fr": "Alost", "en": "Aalst", "de": "Aalst"}},
        "branding": {"display_name": {"nl": "Stad Aalst", "fr": "Ville d'Alost", "en": "City of Aalst"},
                     "primary_colour": "#c8102e", "accent_colour": "#ffffff",
                     "website": "https://www.aalst.be"},
    },
    {
        "tenant": {"slug": "denderleeuw", "nis_code": "41011", "default_language": "nl",
                   "languages": ["nl", "en"], "names": {"nl": "Denderleeuw", "en": "Denderleeuw"}},
        "branding": {"display_name": {"nl": "Gemeente Denderleeuw", "en": "Municipality of Denderleeuw"},
                     "primary_colour": "#005a8c", "accent_colour": "#8cc63f",
                     "website": "https://www.denderleeuw.be"},
    },
    {
        "tenant": {"slug": "haaltert", "nis_code": "41024", "default_language": "nl", "plan": "small",
                   "languages": ["nl"], "names": {"nl": "Haaltert"}},
        "branding": {"display_name": {"nl": "Gemeente Haaltert"},
                     "primary_colour": "#2e7d32", "accent_colour": "#fbc02d",
                     "website": "https://www.haaltert.be"},
    },
    {
        "tenant": {"slug": "ninove", "nis_code": "41048", "default_language": "nl",
                   "languages": ["nl", "fr", "de", "en"],
                   "names": {"nl": "Ninove", "fr": "Ninove", "de": "Ninove", "en": "Ninove"}},
        "branding": {"display_name": {"nl": "Stad Ninove", "fr": "Ville de Ninove",
                                      "de": "Stadt Ninove", "en": "City of Ninove"},
                     "primary_colour": "#6a1b9a", "accent_colour": "#ffb300",
                     "website": "https://www.ninove.be"},
    },
    {
        "tenant": {"slug": "ronse", "nis_code": "45041", "default_language": "nl",
                   "languages": ["nl", "fr"], "names": {"nl": "Ronse", "fr": "Renaix"}},
        "branding": {"display_name": {"nl": "Stad Ronse", "fr": "Ville de Renaix"},
                     "primary_colour": "#004d40", "accent_colour": "#ff7043",
                     "website": "https://www.ronse.be"},
    },
]


# Haaltert has joined the consortium but does not offer these yet: its admins switch them on.
NOT_YET_OFFERED = {"haaltert": ("parking-permit", "bulky-waste")}
# The consortium's rule template; each municipality adopts it as it is, with its own wording of the
# reason (an override of the template's text), or with its own limit (an override of the expression).
TEMPLATE: dict[str, Any] = {"slug": "dender-bulky-waste-volume", "kind": "eligibility", "service": "bulky-waste",
            "expression": "request.volume_m3 <= 6.0",
            "description": "One pickup takes at most 6 m³; more needs a container park visit.",
            "reason": {"nl": "Eén ophaling neemt ten hoogste 6 m³ mee.", "fr": "Un enlèvement emporte 6 m³ au plus.",
                       "en": "One pickup takes at most 6 m³."},
            "examples": [{"input": {"request": {"volume_m3": 2.5}}, "expected": True},
                         {"input": {"request": {"volume_m3": 8.0}}, "expected": False}]}
ADOPTIONS: dict[str, dict[str, Any]] = {
    "aalst": {"template": TEMPLATE["slug"]},
    "denderleeuw": {"template": TEMPLATE["slug"],
                    "reason": {"nl": "Meer dan 6 m³? Breng het naar het recyclagepark van Denderleeuw."}},
    "ronse": {"expression": "request.volume_m3 <= 4.0",
              "reason": {"nl": "In Ronse neemt één ophaling ten hoogste 4 m³ mee.",
                         "fr": "À Renaix, un enlèvement emporte 4 m³ au plus."},
              "examples": [{"input": {"request": {"volume_m3": 3.5}}, "expected": True},
                           {"input": {"request": {"volume_m3": 5.0}}, "expected": False}]},
}


def seed_demo(session: Session) -> list[Tenant]:
    """Create the demo municipalities that do not exist yet, each offering every service but those
    it has not taken on yet (fees vary a little between municipalities, as they do), and adopting the
    consortium's rule template; leave existing ones untouched."""
    if latest_template(session, TEMPLATE["slug"]) is None:
        publish_template(session, TEMPLATE, DEMO_ACTOR)
    tenants = []
    for number, entry in enumerate(DEMO_TENANTS):
        tenant = tenant_by_slug(session, entry["tenant"]["slug"])
        if tenant is None:
            tenant = create_tenant(session, entry["tenant"], DEMO_ACTOR)
            with tenant_scope(session, tenant.id):
                _seed_catalogue(session, tenant, number)
        tenants.append(tenant)
    _seed_offices(session, tenants)
    return tenants


def _seed_catalogue(session: Session, tenant: Tenant, number: int) -> None:
    entry = DEMO_TENANTS[number]
    update_branding(session, tenant, branding_of(session, tenant.id), entry["branding"], DEMO_ACTOR)
    for code, service in SERVICE_TYPES.items():
        configure_service(session, tenant.id, code, {
            "enabled": code not in NOT_YET_OFFERED.get(tenant.slug, ()),
            "fee_cents": service.fee_cents + 100 * number if service.fee_cents else 0,
            "channels": ["online", "counter"]}, actor=DEMO_ACTOR)
    adoption = ADOPTIONS.get(tenant.slug)
    if adoption is not None:
        create_rule(session, tenant.id, {"kind": TEMPLATE["kind"], "service": TEMPLATE["service"], "activate": True,
                                         **adoption}, DEMO_ACTOR)


WEEKDAYS = {day: [["09:00", "12:00"], ["13:30", "16:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
# Aalst's town hall is the regional counter for identity cards and passports of the smaller towns.
OFFICES = {
    "aalst": ("Stadhuis Aalst", "Grote Markt 3, 9300 Aalst", 50.9378, 4.0403, ["denderleeuw", "haaltert"]),
    "denderleeuw": ("Gemeentehuis Denderleeuw", "Kerkstraat 7, 9470 Denderleeuw", 50.8850, 4.0736, []),
    "haaltert": ("Gemeentehuis Haaltert", "Kerkstraat 13, 9450 Haaltert", 50.9036, 4.0297, []),
    "ninove": ("Stadhuis Ninove", "Centrumlaan 100, 9400 Ninove", 50.8288, 4.0254, []),
    "ronse": ("Stadhuis Ronse", "Grote Markt 12, 9600 Ronse", 50.7455, 3.6005, []),
}


def _seed_offices(session: Session, tenants: list[Tenant]) -> None:
    """One office per demo municipality that has none yet, opening on weekdays."""
    by_slug = {tenant.slug: tenant for tenant in tenants}
    for tenant in tenants:
        name, address, lat, long, serves = OFFICES[tenant.slug]
        with tenant_scope(session, tenant.id):
            if offices_of(session, tenant.id):
                continue
            services = [{"service": code, "duration_minutes": 15 if code == "eid-card" else 20, "counters": 2,
                         "serves": serves if code in ("eid-card", "travel-document") else []}
                        for code in ("eid-card", "travel-document", "address-change")]
            values = load(OfficeInput, {"name": name, "address": address, "lat": lat, "long": long,
                                          "languages": tenant.languages, "hours": WEEKDAYS, "services": services,
                                          "regional_holiday": "VLG", "accessibility": "Step-free entrance."})
            served = {entry["service"]: [by_slug[slug].id for slug in entry["serves"]] for entry in values["services"]}
            save_office(session, tenant.id, tenant.time_zone, values, served, actor=DEMO_ACTOR)

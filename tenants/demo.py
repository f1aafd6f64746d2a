"""The demo consortium: real municipalities of the Dender region, with made-up branding."""

from typing import Any

from sqlalchemy.orm import Session

from tenants.models import Tenant
from tenants.operations import create_tenant, update_branding
from tenants.queries import branding_of, tenant_by_slug
from townhall.appointments.operations import save_office
from townhall.appointments.queries import offices_of
from townhall.appointments.schemas import OfficeInput
from townhall.services.operations import configure_service
from townhall.services.registry import SERVICE_TYPES
from townhall.tenancy import tenant_scope
from townhall.validation import load

DEMO_ACTOR = "demo-seed"

DEMO_TENANTS: list[dict[str, Any]] = [
    {
        "tenant": {"slug": "aalst", "nis_code": "41002", "default_language": "nl",
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
        "tenant": {"slug": "haaltert", "nis_code": "41024", "default_language": "nl",
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


def seed_demo(session: Session) -> list[Tenant]:
    """Create the demo municipalities that do not exist yet, each offering every service (fees vary a
    little between municipalities, as they do); leave existing ones untouched."""
    tenants = []
    for number, entry in enumerate(DEMO_TENANTS):
        tenant = tenant_by_slug(session, entry["tenant"]["slug"])
        if tenant is None:
            tenant = create_tenant(session, entry["tenant"], DEMO_ACTOR)
            with tenant_scope(session, tenant.id):
                update_branding(session, tenant, branding_of(session, tenant.id), entry["branding"], DEMO_ACTOR)
                for code, service in SERVICE_TYPES.items():
                    configure_service(session, tenant.id, code, {
                        "fee_cents": service.fee_cents + 100 * number if service.fee_cents else 0,
                        "channels": ["online", "counter"]})
        tenants.append(tenant)
    _seed_offices(session, tenants)
    return tenants


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
            save_office(session, tenant.id, tenant.time_zone, values, served)

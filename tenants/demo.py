"""The demo consortium: real municipalities of the Dender region, with made-up branding."""

from typing import Any

from sqlalchemy.orm import Session

from tenants.models import Tenant
from tenants.operations import create_tenant, update_branding
from tenants.queries import branding_of, tenant_by_slug
from townhall.services.operations import configure_service
from townhall.services.registry import SERVICE_TYPES
from townhall.tenancy import tenant_scope

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
    return tenants

"""Every blueprint of the API, with its route modules imported so that their views are attached."""

import api.appointments.routes
import api.audit.routes
import api.branding.routes
import api.cases.routes
import api.changes.routes
import api.clients.routes
import api.console.case_pages
import api.console.config_pages
import api.console.consortium_pages
import api.console.email_pages
import api.console.integration_pages
import api.console.office_pages
import api.console.rule_pages
import api.console.staff_pages
import api.console.team_pages
import api.delegations.routes
import api.email_templates.routes
import api.me.routes
import api.members.routes
import api.oauth.authorize
import api.payments.routes
import api.portal.visits
import api.privacy.routes
import api.proactive.routes
import api.rules.routes
import api.services.routes
import api.webhooks.routes
from api.console.consortium_pages import consortium
from api.console.routes import assets, console
from api.health.routes import health
from api.landing.routes import landing
from api.oauth.routes import oauth
from api.platform.routes import platform_api
from api.portal.routes import portal
from api.tenant_api import tenant_api

# Importing these modules attaches their views to the blueprints below.
ROUTE_MODULES = (
    api.appointments.routes,
    api.audit.routes,
    api.branding.routes,
    api.cases.routes,
    api.changes.routes,
    api.clients.routes,
    api.console.case_pages,
    api.console.config_pages,
    api.console.consortium_pages,
    api.console.email_pages,
    api.console.integration_pages,
    api.console.office_pages,
    api.console.rule_pages,
    api.console.staff_pages,
    api.console.team_pages,
    api.delegations.routes,
    api.email_templates.routes,
    api.me.routes,
    api.members.routes,
    api.oauth.authorize,
    api.payments.routes,
    api.portal.visits,
    api.privacy.routes,
    api.proactive.routes,
    api.rules.routes,
    api.services.routes,
    api.webhooks.routes,
)
ALL = (health, landing, oauth, platform_api, tenant_api, console, consortium, portal, assets)

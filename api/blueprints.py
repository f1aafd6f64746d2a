"""Every blueprint of the API, with its route modules imported so that their views are attached."""

import api.branding.routes
import api.clients.routes
import api.oauth.authorize  # noqa: F401
from api.oauth.routes import oauth
from api.operations.routes import operations
from api.tenant_api import tenant_api

ALL = (operations, oauth, tenant_api)

"""Every mapped model, imported once so that metadata (migrations, checks) knows all tables."""

import tenants.models  # noqa: F401  (registers the tenant tables)
import townhall.appointments.models
import townhall.audit.models
import townhall.auth.models
import townhall.cases.models
import townhall.changes.models
import townhall.idempotency
import townhall.outbox.models
import townhall.payments.models
import townhall.proactive.models
import townhall.rules.models
import townhall.services.models  # noqa: F401  (these register the kernel's tables)
from townhall.db import Base

metadata = Base.metadata

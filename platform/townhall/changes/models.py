"""One recorded change of a municipality's configuration."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from townhall.clock import utcnow
from townhall.db import Base, TenantOwned
from townhall.ids import new_id


class ConfigChange(TenantOwned, Base):
    """One change of a tenant's configuration: who, when, what (field → from/to). `subject` names
    what changed (`branding`, `status`, `service:<code>`, …)."""

    __tablename__ = "tenant_config_changes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(40))
    changes: Mapped[dict[str, Any]]

    __table_args__ = (Index(None, "tenant_id", "at"),)

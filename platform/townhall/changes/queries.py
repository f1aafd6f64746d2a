"""Reading the history of a municipality's configuration, newest first."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from townhall.changes.models import ConfigChange


def history(session: Session, tenant_id: uuid.UUID, *, subject: str | None = None, limit: int = 50,
            before: tuple[datetime, uuid.UUID] | None = None) -> Sequence[ConfigChange]:
    """Changes newest first; `subject` limits them to one resource, `before` continues a page."""
    query = select(ConfigChange).where(ConfigChange.tenant_id == tenant_id)
    if subject is not None:
        query = query.where(ConfigChange.subject == subject)
    if before is not None:
        query = query.where(tuple_(ConfigChange.at, ConfigChange.id) < before)
    return session.scalars(query.order_by(ConfigChange.at.desc(), ConfigChange.id.desc()).limit(limit)).all()

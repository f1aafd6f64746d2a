"""Recording a change of configuration, in the same transaction as the change itself."""

import uuid

from sqlalchemy.orm import Session

from townhall.audit.writes import note_change
from townhall.changes.diff import Changes
from townhall.changes.models import ConfigChange


def record(session: Session, tenant_id: uuid.UUID, actor: str, subject: str, changes: Changes) -> None:
    """Adds one entry to the history (nothing when nothing changed), flushed with the tenant in
    context; the caller commits."""
    if changes:
        session.add(ConfigChange(tenant_id=tenant_id, actor=actor, subject=subject, changes=changes))
        session.flush()
        note_change(session, tenant_id, subject, changes)  # for the audit entry of this transaction

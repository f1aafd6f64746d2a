"""Read-side lookups for a citizen's proactive actions and preferences."""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall.proactive.models import ProactiveAction, ProactivePreference


def actions_for(session: Session, tenant_id: uuid.UUID, user_id: uuid.UUID) -> Sequence[ProactiveAction]:
    return session.scalars(select(ProactiveAction).where(ProactiveAction.tenant_id == tenant_id,
                                                         ProactiveAction.user_id == user_id)
                           .order_by(ProactiveAction.id)).all()


def opted_out(session: Session, tenant_id: uuid.UUID, user_id: uuid.UUID) -> list[str]:
    found = session.get(ProactivePreference, (tenant_id, user_id))
    return list(found.opted_out) if found else []

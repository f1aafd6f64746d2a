"""A payment of a case's fee: online (the provider's reference, its checkout) or at the counter."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from townhall.clock import utcnow
from townhall.db import Base, TenantOwned
from townhall.ids import new_id

ONLINE, COUNTER = "online", "counter"
# open: waiting for the citizen; paid; failed, canceled, expired: never paid; refunded: paid, then given back.
STATUSES = ("open", "paid", "failed", "canceled", "expired", "refunded")


class Payment(TenantOwned, Base):
    __tablename__ = "payments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID]
    method: Mapped[str] = mapped_column(String(20))
    provider_ref: Mapped[str | None] = mapped_column(String(64))  # the provider's id (Mollie: tr_…)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    checkout_url: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None]
    refund_ref: Mapped[str | None] = mapped_column(String(64))
    refunded_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "provider_ref"),
        Index(None, "tenant_id", "case_id", "id"),
        Index(None, "tenant_id", "status", "id"),  # the refunds chore's paid payments
    )

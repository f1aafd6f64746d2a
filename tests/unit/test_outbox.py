"""The outbox: one way an event is made, for the ORM writers and for the Core write of a new case."""

import uuid
from datetime import UTC, datetime

from townhall.outbox.models import OutboxEvent
from townhall.outbox.operations import event_row


def test_an_event_row_gives_every_column_of_the_outbox_table() -> None:
    tenant, at = uuid.uuid4(), datetime(2026, 12, 6, 10, 30, tzinfo=UTC)
    row = event_row(tenant, "case.created", "the case", {"case": "the case"}, at)
    assert set(row) == set(OutboxEvent.__table__.c.keys())  # the Core path inserts the row as it is
    assert (row["tenant_id"], row["type"], row["subject"], row["time"], row["delivered_at"]) == (
        tenant, "case.created", "the case", at, None)
    assert row["id"] != event_row(tenant, "case.created", "the case", {})["id"]


def test_an_event_made_now_is_stamped_now() -> None:
    before = datetime.now(UTC)
    row = event_row(uuid.uuid4(), "webhook.disabled", "a subscription", {})
    assert before <= row["time"] <= datetime.now(UTC)

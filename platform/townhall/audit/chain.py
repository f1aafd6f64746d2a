"""How an entry is hashed: one canonical JSON text per entry, chained to the previous entry's hash.
`townhall audit verify` recomputes exactly this."""

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
"""The `previous` of a municipality's first entry."""

SEAL_TYPE = "townhall-audit-head+jws"
"""The `typ` of a signed chain head: {"tenant", "seq", "hash", "iat"} signed with the platform's key."""


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
"""What `json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` makes, built
once: a verification of a million entries need not build a million encoders."""


def _entry(seq: int, time: datetime, actor: str, action: str, object_: str,
           summary: Mapping[str, Any]) -> dict[str, Any]:
    return {"seq": seq, "time": time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "actor": actor,
            "action": action, "object": object_, "summary": summary}


def canonical_around_seq(time: datetime, actor: str, action: str, object_: str,
                         summary: Mapping[str, Any]) -> tuple[str, str]:
    """The canonical entry's text before and after its number, which only the chain's head knows
    (PostgreSQL puts the number in between in the statement that takes it)."""
    text = _ENCODER.encode(_entry(0, time, actor, action, object_, summary))
    before, _, after = text.partition('"seq":0')  # keys sorted: action, actor, object, seq, summary, time
    return before + '"seq":', after


def canonical(seq: int, time: datetime, actor: str, action: str, object_: str, summary: Mapping[str, Any]) -> bytes:
    """Sorted keys, no spaces, UTF-8, the time in UTC to the microsecond: the same bytes on every
    backend and in every process. The same text as `canonical_around_seq` with the number put in
    between: the keys before "seq" (action, actor, object) hold strings, in which every quote is
    escaped, so its first `"seq":0` is the number's own."""
    return _ENCODER.encode(_entry(seq, time, actor, action, object_, summary)).encode()


def link(previous: str, entry: bytes) -> str:
    return hashlib.sha256(previous.encode() + entry).hexdigest()

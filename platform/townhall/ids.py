"""Time-ordered identifiers (UUID version 7, RFC 9562).

Time order keeps B-tree inserts local and gives lists a stable, meaningful default order.
"""

import os
import time
import uuid
from datetime import datetime


def new_id(*, at: datetime | None = None) -> uuid.UUID:
    """A random UUIDv7: 48 bits of Unix milliseconds (now, or `at` for rows that record the past),
    then 74 random bits."""
    millis = time.time_ns() // 1_000_000 if at is None else int(at.timestamp() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    return uuid.UUID(int=value)

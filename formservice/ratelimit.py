"""A per-address limit on submissions that holds across instances: the counters live in the bucket.

One empty object per submission under `ratelimit/<window start>/<address hash>/<submission id>`;
counting is one LIST of at most `limit` keys. Two instances racing may let one extra submission
through, which is fine for abuse control. `calls purge` deletes the counters of past windows.
The address is stored only as an HMAC, never in clear.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from .storage import RATELIMIT, Storage


def allow(storage: Storage, address: str, sub_id: str, *, limit: int, window: int, secret: str,
          now: dt.datetime) -> bool:
    """Count this submission for `address` and say whether it is within the limit."""
    if not limit:
        return True
    start = int(now.timestamp()) // window * window
    who = hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]
    prefix = f"{RATELIMIT}/{start}/{who}/"
    seen = list(storage.keys(prefix, limit=limit + 1))
    if prefix + sub_id in seen:
        return True
    if len(seen) >= limit:
        return False
    storage.put(prefix + sub_id, b"")
    return True


def past_counters(storage: Storage, *, window: int, now: dt.datetime) -> list[str]:
    """The counters of every window before the current one: they count nothing any more."""
    current = int(now.timestamp()) // window * window
    keys: list[str] = []
    for prefix in storage.children(RATELIMIT + "/"):
        start = prefix[len(RATELIMIT) + 1:].rstrip("/")
        if start.isdigit() and int(start) < current:
            keys += storage.keys(prefix)
    return keys

"""Defect found by bench_reliability.py (scenario 5): an answer that passes the deadline check is
stored, acknowledged and mailed with a time of receipt at or after `closes`.

views.answer decides with one reading of the clock (`answer_state(call, now())`); the time of
receipt is another (views.submit: `submission.store(..., now=now())`), taken after the checks of
every field and file and the rate limit's storage calls (a LIST and a PUT under ratelimit/; the
limit is on by default, FORMSERVICE_RATE_LIMIT=20). Whatever takes time between the two (a busy
storage, CPU under load) moves the authoritative time of receipt past the deadline of an answer
that was accepted. Here a proxy delays the rate limit's PUT by 1.5 s and the POST leaves 0.5 s
before the call closes.

    .venv/bin/python bench/repro/late_time_of_receipt.py
"""

import datetime as dt
import math
import time

from harness import Platform, bench_call

platform = Platform()
try:
    closes = dt.datetime.fromtimestamp(math.ceil(time.time()) + 3, dt.timezone.utc)

    def slow_rate_limit(data: bytes):
        return 1.5 if data.startswith(b"PUT /appels/ratelimit/") else None

    client = platform.app(bench_call("repro", closes=closes), slow_rate_limit).test_client()
    body, content_type = platform.open_form(client, "repro")
    time.sleep(max(0.0, closes.timestamp() - 0.5 - time.time()))
    sent = time.time()
    response = client.post("/appels/repro/repondre", data=body, content_type=content_type)
    print(f"call closes at {closes.isoformat()}; POST sent {sent - closes.timestamp():+.2f} s from it")
    print("answer:", response.status_code, response.headers.get("Location"))
    (key,) = [k for k in platform.keys("submissions/repro/") if k.endswith("record.json")]
    record = platform.record(key)
    received = dt.datetime.fromisoformat(record["received_at"].replace("Z", "+00:00"))
    print(f"record: received_at {record['received_at']} ({record['received_at_local']})")
    print("receipt mails received:", platform.mails())
    print("DEFECT: accepted with a time of receipt at or after closes" if received >= closes
          else "time of receipt before closes")
finally:
    platform.stop()

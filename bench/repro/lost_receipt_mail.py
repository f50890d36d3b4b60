"""Defect found by bench_reliability.py (scenario 2): an answer whose record PUT was committed by the
storage but whose response was lost is acknowledged (303, receipt page) and never gets its receipt
mail: nothing is sent, nothing is queued.

botocore sends the PUT of record.json again by itself (retries, standard mode); IfNoneMatch then
answers 412, which `submission.store` raises as FileExistsError, and views.submit takes it for a
form sent twice: it redirects to the receipt without `send_receipt`. The same happens when the
storage is down meanwhile: the person gets the 503, sends again, and meets the 412. Here a proxy
drops the storage's answer to the first record PUT.

    .venv/bin/python bench/repro/lost_receipt_mail.py
"""

from harness import Platform, bench_call

platform = Platform()
try:
    dropped = []

    def drop_first_record_put(data: bytes):
        line = data.split(b"\r\n", 1)[0]
        if line.startswith(b"PUT /appels/submissions/") and b"/record.json " in line and not dropped:
            dropped.append(line)
            return "drop"
        return None

    client = platform.app(bench_call("repro"), drop_first_record_put, RATE_LIMIT=0).test_client()
    body, content_type = platform.open_form(client, "repro")
    response = client.post("/appels/repro/repondre", data=body, content_type=content_type)
    print("POST:", response.status_code, response.headers.get("Location"))
    print("receipt page:", client.get(response.headers["Location"]).status_code)
    print("records:", platform.keys("submissions/repro/") and
          [k for k in platform.keys("submissions/repro/") if k.endswith("record.json")])
    mails = platform.mails()
    print("outbox:", platform.keys("outbox/"))
    print("receipt mails received:", mails)
    print("DEFECT: acknowledged and stored, receipt mail lost" if mails == 0 else "receipt mail sent")
finally:
    platform.stop()

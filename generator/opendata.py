"""Machine-readable outputs of the catalogue besides calls.json (callmodel.record): OCDS, Atom
feeds, iCalendar, sitemap.

Each function takes validated calls and returns the text to write; the site generator decides
where. `site` is the absolute base URL of the static site (no trailing slash).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from xml.sax.saxutils import escape, quoteattr

import icalendar

from callmodel import urls
from callmodel.record import iso
from callmodel.schema import CALL_TYPES, Call

FEED_SIZE = 50
ICS_UTC = "%Y%m%dT%H%M%SZ"


def document_url(site: str, call: Call, file: str) -> str:
    return urls.call_url(site, call.slug) + file


OCDS_STATUS = {"upcoming": "planned", "open": "active", "closed": "complete"}


def ocds_release(call: Call, *, site, status, partners, prefix, build) -> tuple[str, str]:
    """One tender release per call (planning for a notice), as JSON text before and after its
    date: the build's instant goes between, so a release is serialised once per version of the call.

    Amendments are the call's `amendments:` notes (their rationale) and each change after
    publication found in its git history: what changed in words (`description`) and field by field
    (`changes`: OCDS 1.1's `property` and `former_value`, with our `new_value` beside them)."""
    partner = partners[call.partner]
    buyer = {"id": call.partner, "name": partner.name}
    tender = {
        "id": call.slug,
        "title": call.title,
        "description": call.summary,
        "status": OCDS_STATUS[status],
        "procurementMethodDetails": CALL_TYPES[call.type].label,
        "tenderPeriod": {"startDate": iso(call.opens)},
        "documents": [{"id": f"{call.slug}-{i}", "documentType": "tenderNotice" if i == 0 else "biddingDocuments",
                       "title": d.title, "url": document_url(site, call, d.file), "language": "fr",
                       "format": "application/pdf" if d.format == "pdf" else "application/octet-stream"}
                      for i, d in enumerate(call.documents)],
    }
    if call.closes:
        tender["tenderPeriod"]["endDate"] = iso(call.closes)
    if call.questions_until:
        tender["enquiryPeriod"] = {"endDate": iso(call.questions_until)}
        tender["hasEnquiries"] = bool(call.questions)
    if call.submission:
        tender["submissionMethod"] = ["electronicSubmission"]
        tender["submissionMethodDetails"] = call.submission.external_url or urls.call_url(site, call.slug)
    amendments = [{"id": f"{call.slug}-amendment-{i + 1}", "date": _ocds_date(a.date, call),
                   "rationale": a.summary} for i, a in enumerate(call.amendments)]
    if call.history:
        amendments += [{"id": f"{call.slug}-{e.short}", "date": iso(e.date), "description": " ; ".join(e.changes),
                        "changes": [{"property": c.field, "former_value": c.old, "new_value": c.new}
                                    for c in e.changed]}
                       for e in call.history.amendments]
    if amendments:
        tender["amendments"] = sorted(amendments, key=lambda a: dt.datetime.fromisoformat(a["date"]))
    if not tender["documents"]:
        del tender["documents"]
    head = {"ocid": f"{prefix}-{call.slug}", "id": f"{call.slug}-{build.get('commit') or 'local'}"[:60]}
    tail = {
        "tag": ["planning"] if call.type == "avis-information" else ["tender"],
        "initiationType": "tender",
        "language": "fr",
        "parties": [{"id": call.partner, "name": partner.name, "roles": ["buyer", "procuringEntity"],
                     **({"details": {"url": partner.url}} if partner.url else {})}],
        "buyer": buyer,
        "tender": tender,
    }
    return _json(head)[:-1] + ',"date":', "," + _json(tail)[1:]


def ocds_package(releases, *, site, now, publisher) -> str:
    """An OCDS 1.1 release package of `releases` (ocds_release's pieces), dated `now`."""
    date = _json(iso(now))
    return (f'{{"uri":{_json(f"{site}/{urls.OCDS_JSON}")},"version":"1.1","publishedDate":{date},'
            f'"publisher":{_json({"name": publisher})},"releases":['
            + ",".join(head + date + tail for head, tail in releases) + "]}")


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _ocds_date(day: dt.date, call: Call) -> str:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=call.opens.tzinfo).isoformat()


def atom_entry(call: Call, *, site, partners) -> tuple[dt.datetime, str]:
    """A call as an Atom entry, and when it was last updated (its latest amendment): made once per
    build and shared by every feed the call is in.

    Written directly, as feedgenerator writes it (its SAX writer took most of the feeds' time)."""
    published = dt.datetime.combine(call.published, dt.time(0, 0), tzinfo=call.opens.tzinfo)
    updated = max([published] + [dt.datetime.combine(a.date, dt.time(0, 0), tzinfo=call.opens.tzinfo)
                                 for a in call.amendments])
    url = urls.call_url(site, call.slug)
    return updated, (f'<entry><title>{_xml(call.title)}</title><link href={_attribute(url)} rel="alternate"/>'
                     f"<published>{published.isoformat()}</published><updated>{updated.isoformat()}</updated>"
                     f"<author><name>{_xml(partners[call.partner].name)}</name></author><id>{_xml(url)}</id>"
                     f'<summary type="html">{_xml(call.summary)}</summary>'
                     f"<category term={_attribute(CALL_TYPES[call.type].label)}/></entry>")


def atom_feed(entries, *, title, site, feed_path, page_path, now) -> str:
    """A listing's feed of the entries (atom_entry) of its most recently published calls, newest
    first; dated by its latest update, or without entries `now` (the build's instant, not the
    clock: two builds as of the same instant are equal)."""
    updated = max((moment for moment, _ in entries), default=now)
    link = f"{site}/{page_path}"
    return ('<?xml version="1.0" encoding="utf-8"?>\n<feed xml:lang="fr" xmlns="http://www.w3.org/2005/Atom">'
            f'<title>{_xml(title)}</title><link href={_attribute(link)} rel="alternate"/>'
            f'<link href={_attribute(f"{site}/{feed_path}")} rel="self"/><id>{_xml(link)}</id>'
            f"<updated>{updated.isoformat()}</updated><subtitle>{_xml(title)}</subtitle>"
            + "".join(entry for _, entry in entries) + "</feed>")


_CONTROL = re.compile(r"[\x00-\x08\x0B\x0C\x0E-\x1F]")  # not characters of XML 1.0


def _xml(text: str) -> str:
    return escape(_CONTROL.sub("", text))


def _attribute(text: str) -> str:
    return quoteattr(_CONTROL.sub("", text))


def _ics_text(value: str) -> str:
    """RFC 5545 TEXT escaping."""
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _ics_line(line: str) -> bytes:
    """One content line folded at 75 octets without splitting a UTF-8 character (RFC 5545 3.1)."""
    data, chunks, limit = line.encode("utf-8"), [], 75
    while len(data) > limit:
        cut = limit
        while cut and (data[cut] & 0xC0) == 0x80:
            cut -= 1
        chunks.append(data[:cut])
        data, limit = b" " + data[cut:], 75
    chunks.append(data)
    return b"\r\n".join(chunks) + b"\r\n"


def deadline_event(call: Call, *, site, partners) -> tuple[bytes, bytes] | None:
    """A call's deadline as a serialised VEVENT, before and after its DTSTAMP line (the build's
    instant), made once per version of the call and shared by every calendar it is in.

    Written directly (escaping and folding as RFC 5545 says): the icalendar library took 1.3 ms
    per event, most of a 10,000-call build; the tests read every calendar back with it."""
    if call.closes is None:
        return None
    host = site.split("://", 1)[-1].split("/", 1)[0] or "localhost"
    closes = call.closes.astimezone(dt.timezone.utc).strftime(ICS_UTC)
    url = urls.call_url(site, call.slug)
    description = f"{CALL_TYPES[call.type].label} – {partners[call.partner].name}\n{call.summary}\n{url}"
    before = ["BEGIN:VEVENT", f"UID:{call.slug}-closes@{host}"]
    after = [f"DTSTART:{closes}", f"DTEND:{closes}", f"SUMMARY:{_ics_text('Clôture : ' + call.title)}",
             f"DESCRIPTION:{_ics_text(description)}", f"URL:{url}", "END:VEVENT"]
    return b"".join(map(_ics_line, before)), b"".join(map(_ics_line, after))


def stamped(events: dict[str, tuple[bytes, bytes]], now) -> dict[str, bytes]:
    """The deadline_event of each call with the build's instant as DTSTAMP."""
    stamp = _ics_line(f"DTSTAMP:{now.astimezone(dt.timezone.utc).strftime(ICS_UTC)}")
    return {slug: before + stamp + after for slug, (before, after) in events.items()}


def icalendar_file(calls, events: dict[str, bytes], *, name) -> bytes:
    """A calendar of the deadlines of `calls` (their stamped events by slug), each linking to its call."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Appels d'innovation//calendrier des échéances//FR")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    head, end = cal.to_ical().rsplit(b"END:VCALENDAR", 1)
    return head + b"".join(events[c.slug] for c in calls if c.slug in events) + b"END:VCALENDAR" + end


def sitemap(paths, site) -> str:
    entries = "".join(f"<url><loc>{escape(site + '/' + p)}</loc></url>\n" for p in paths)
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + entries + "</urlset>\n")

"""Bad input never crashes the parsers: random bytes and mangled real-looking input either parse or
raise a PersonaError, and what parses holds what its readers rely on. Bounded (derandomized, fixed example
counts) so CI runs them in seconds."""

from __future__ import annotations

import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from persona.channels.email.mailparse import parse_mail
from persona.errors import PersonaError
from persona.memory.loaders import Document, iter_documents

BOUNDED = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
ZONE = ZoneInfo("Europe/Berlin")

HEADERS = st.sampled_from(
    [
        b"From: ",
        b"To: ",
        b"Cc: ",
        b"Subject: ",
        b"Date: ",
        b"Message-ID: ",
        b"In-Reply-To: ",
        b"Content-Type: multipart/alternative; boundary=",
        b"Content-Type: text/html; charset=",
        b"Content-Transfer-Encoding: ",
        b"MIME-Version: 1.0",
        b"--",
        b"=?utf-8?b?",
        b"=?iso-8859-1?q?",
    ]
)
MAILISH = (
    st.lists(st.tuples(HEADERS, st.binary(max_size=40)), max_size=12)
    .map(lambda parts: b"\r\n".join(h + v for h, v in parts) + b"\r\n\r\n")
    .flatmap(lambda head: st.binary(max_size=300).map(lambda body: head + body))
)


@BOUNDED
@given(st.one_of(st.binary(max_size=600), MAILISH))
def test_fuzz_parse_mail(data: bytes):
    try:
        parsed = parse_mail(data)
    except PersonaError:
        return
    assert isinstance(parsed.body, str)


ICS_LINES = st.sampled_from(
    [
        "BEGIN:VCALENDAR",
        "END:VCALENDAR",
        "BEGIN:VEVENT",
        "END:VEVENT",
        "VERSION:2.0",
        "PRODID:-//x//y//EN",
        "UID:",
        "DTSTART:",
        "DTEND:",
        "DTSTART;TZID=Europe/Berlin:",
        "DURATION:",
        "RRULE:FREQ=",
        "SUMMARY:",
        "ATTENDEE;CN=x:mailto:",
        "ORGANIZER:mailto:",
        "METHOD:REQUEST",
        "BEGIN:VTIMEZONE",
        "END:VTIMEZONE",
        "EXDATE:",
        "STATUS:",
        "DTSTAMP:",
        " folded",
    ]
)
ICSISH = st.lists(
    st.tuples(
        ICS_LINES,
        st.one_of(
            st.just(""),
            st.just("20261201T100000Z"),
            st.just("20261201"),
            st.just("PT1H"),
            st.just("WEEKLY;COUNT=3"),
            st.text(max_size=20),
        ),
    ),
    max_size=25,
).map(lambda lines: "\r\n".join(k + v for k, v in lines))


@BOUNDED
@given(ICSISH)
def test_fuzz_ics_import(text: str):
    """A file imports whole or not at all, and importing it again creates nothing new."""
    from persona.channels.calendar.ics import ICSBackend
    from persona.channels.calendar.importer import import_ics

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.ics"
        source.write_text(text, encoding="utf-8", errors="surrogatepass")
        backend = ICSBackend(Path(tmp) / "cal", ZONE)
        try:
            first = import_ics(backend, source)
        except PersonaError:
            assert backend.uids() == []  # refused: nothing written
            return
        stored = backend.uids()
        assert (first.created, first.updated) == (len(stored), 0)
        again = import_ics(backend, source)
        assert (again.created, again.updated) == (0, first.created) and backend.uids() == stored


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(["x.eml", "x.mbox", "x.md", "x.txt", "x.json", "x.ics", "x"]), st.binary(max_size=400))
def test_fuzz_loaders(name: str, data: bytes):
    """A file gives documents with an id, or is skipped saying why, each traced to the file, the same on every
    read (ingest is idempotent by these ids)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            read = list(iter_documents(path))
        except PersonaError:
            return
        assert read and list(iter_documents(path)) == read
        for item in read:
            assert item.source.startswith(str(path))
            assert (item.id and isinstance(item.text, str)) if isinstance(item, Document) else item.reason

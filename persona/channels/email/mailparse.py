"""Parse one RFC 5322 message into the fields mail and memory need, tolerating the mail of real archives.

Broken charsets, truncated MIME and missing headers degrade the result instead of failing: only an
empty input, a message of more MIME parts than allowed, or one nested too deep raises `MailParseError`.
Parsing stays linear in the input: the reply splitter, which costs ~300 bytes of memory a byte, sees
only the start of the body.
"""

from __future__ import annotations

import codecs
import hashlib
import itertools
import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from mailparser_reply import EmailReplyParser
from pydantic import BaseModel

from persona.errors import PersonaError
from persona.input_limits import MIME_PARTS

_REPLY_SCAN_CHARS = 100_000  # of a body, what the reply splitter reads: the writer's own text comes first


class MailParseError(PersonaError):
    """The input holds no message at all."""


class Quoted(BaseModel):
    """The earlier message quoted under a reply: who wrote it (a name or an address) and its own text."""

    author: str = ""
    subject: str = ""
    text: str


class ParsedMail(BaseModel):
    message_id: str
    thread_id: str
    in_reply_to: str = ""
    references: list[str] = []
    from_addr: str = ""
    from_name: str = ""
    to: list[str] = []
    cc: list[str] = []
    date: datetime | None = None
    subject: str = ""
    body: str = ""
    fresh: str = ""
    signature: str = ""
    quoted: Quoted | None = None  # the message this one answers, when its text is quoted below the reply


def parse_mail(data: bytes, max_parts: int = MIME_PARTS) -> ParsedMail:
    if not data or not data.strip():
        raise MailParseError("empty message: nothing to parse")
    try:
        return _parsed(data, max_parts)
    except RecursionError:
        raise MailParseError("MIME parts nested too deep") from None


def _parsed(data: bytes, max_parts: int) -> ParsedMail:
    msg = message_from_bytes(data, policy=policy.default)
    if next(itertools.islice(msg.walk(), max_parts, None), None) is not None:
        raise MailParseError(f"more than {max_parts} MIME parts (PERSONA_INGEST_MAX_MIME_PARTS)")
    message_id = _first_msgid(_header(msg, "Message-ID")) or _hash_id(data)
    in_reply_to = _first_msgid(_header(msg, "In-Reply-To"))
    references = _MSGID.findall(_header(msg, "References"))
    from_name, from_addr = _addresses(_header(msg, "From"))[0]
    body = _body_text(msg)
    fresh, signature = split_reply(body)
    return ParsedMail(
        message_id=message_id,
        thread_id=(references[0] if references else in_reply_to) or message_id,
        in_reply_to=in_reply_to,
        references=references,
        from_addr=from_addr,
        from_name=from_name,
        to=[addr for _, addr in _addresses(_header(msg, "To")) if addr],
        cc=[addr for _, addr in _addresses(_header(msg, "Cc")) if addr],
        date=_date(_header(msg, "Date")),
        subject=" ".join(_header(msg, "Subject").split()),
        body=body,
        fresh=fresh,
        signature=signature,
        quoted=quoted_original(body),
    )


# --- headers ---------------------------------------------------------------------------------------

_MSGID = re.compile(r"<[^<>\s]+>")


def _header(msg: Message, name: str) -> str:
    """A header as text; a value the strict parser rejects falls back to a lenient decoding."""
    try:
        value = msg.get(name)
        return "" if value is None else str(value)
    except Exception:  # noqa: BLE001 -- the policy's header classes raise assorted errors on garbage
        raw = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), "")
        try:
            return str(make_header(decode_header(raw)))
        except Exception:  # noqa: BLE001 -- undecodable header words: keep the raw text
            return raw


def _first_msgid(value: str) -> str:
    """The first <id>; a bare id without brackets (seen from some clients) is kept as written."""
    found = _MSGID.search(value)
    if found:
        return found.group(0)
    words = value.split()
    return words[0] if words else ""


def _hash_id(data: bytes) -> str:
    return f"<{hashlib.sha256(data).hexdigest()[:32]}@persona-twin.invalid>"


def _addresses(value: str) -> list[tuple[str, str]]:
    pairs = [(name.strip(), addr.strip().lower()) for name, addr in getaddresses([value])]
    return [(n, a if "@" in a else "") for n, a in pairs if n or a] or [("", "")]


def _date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # RFC 5322 "-0000": the zone is unknown; UTC is the least wrong guess
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# --- body ------------------------------------------------------------------------------------------


def _body_text(msg: Message) -> str:
    plain: list[str] = []
    html: list[str] = []
    _collect(msg, plain, html)
    if any(p.strip() for p in plain):
        text = "\n\n".join(p for p in plain if p.strip())
    else:
        text = "\n\n".join(html_to_text(h) for h in html)
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _collect(part: Message, plain: list[str], html: list[str]) -> None:
    """Gather inline text parts; attachments and forwarded messages are not the writer's body."""
    if part.is_multipart():
        for sub in part.get_payload():
            if isinstance(sub, Message) and sub.get_content_type() != "message/rfc822":
                _collect(sub, plain, html)
        return
    if part.get_content_disposition() == "attachment":
        return
    ctype = part.get_content_type()
    if ctype == "text/html":
        html.append(_decode(part))
    elif ctype == "text/plain" or part.get_content_maintype() == "multipart":
        # a multipart whose boundary is missing or truncated arrives as one text blob
        plain.append(_decode(part))


def _decode(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = str(part.get_payload()).encode("utf-8", "replace")
    charset = part.get_content_charset() or "utf-8"
    try:
        codecs.lookup(charset)
    except (LookupError, ValueError):  # unknown, or not even a name ("utf\x00-8")
        charset = "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except Exception:  # noqa: BLE001 -- a codec that exists yet fails outright
        return payload.decode("utf-8", errors="replace")


class _HtmlText(HTMLParser):
    _BLOCK = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table"}
    )
    _SKIP = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def topic(subject: str) -> str:
    """A subject without its "Re:"/"Fwd:" prefixes, lowercased: what a thread's mails have in common."""
    return re.sub(r"^\s*((re|aw|sv|fwd?)\s*:\s*)+", "", subject, flags=re.IGNORECASE).strip().lower()


# --- what the writer wrote -------------------------------------------------------------------------

_WROTE = re.compile(r"\bwrote:\s*$", re.IGNORECASE)
_ORIGINAL = re.compile(r"^-{3,}\s*(Original Message|Forwarded message)\s*-{3,}\s*$", re.IGNORECASE)
_SENT_FROM = re.compile(r"^(Sent from my |Get Outlook for )", re.IGNORECASE)


def split_reply(body: str) -> tuple[str, str]:
    """(fresh text, signature): quoted history and the `-- ` signature block removed.

    mail-parser-reply splits off quoted history (Gmail, Apple, Outlook headers, many languages); its own
    signature detection also eats sign-offs like "Thanks,\\nDana", which are the writer's voice, so the
    signature is cut here: at a `-- ` line or a "Sent from my ..." trailer.
    """
    text = body.replace("\r\n", "\n")[:_REPLY_SCAN_CHARS]
    try:
        replies = EmailReplyParser(languages=["en"]).read(text).replies
        latest = replies[0].content if replies else text
    except Exception:  # noqa: BLE001 -- a regex edge case in the library must not lose the message
        latest = text
    lines = _cut_history(latest.split("\n"))
    fresh_lines, signature_lines = _cut_signature(lines)
    return _tidy(fresh_lines), _tidy(signature_lines)


def _cut_history(lines: list[str]) -> list[str]:
    kept: list[str] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if _ORIGINAL.match(stripped):
            break
        if _WROTE.search(stripped) and (stripped.lower().startswith("on ") or _quoted_after(lines, i)):
            # a wrapped "On ..., Name <addr>\nwrote:" header leaves its first half behind
            if not stripped.lower().startswith("on ") and kept and kept[-1].strip().lower().startswith("on "):
                kept.pop()
            break
        if _NOTES_HEADER.match(stripped) and _notes_header_at(lines, i):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line)
    return kept


def _quoted_after(lines: list[str], i: int) -> bool:
    rest = [line.strip() for line in lines[i + 1 :] if line.strip()]
    return bool(rest) and rest[0].startswith(">")


def _notes_header_at(lines: list[str], i: int) -> bool:
    """A Lotus Notes "<name> on <date>" line heads quoted history when nothing follows it (the reply parser
    took the To/cc/Subject block under it) or a header line does: a date at a sentence's end is kept."""
    rest = [line.strip() for line in lines[i + 1 :] if line.strip()]
    return not rest or bool(
        _QUOTE_HEADER.match(rest[0]) or re.match(r"(please respond to|sent by:)", rest[0], re.IGNORECASE)
    )


_QUOTE_HEADER = re.compile(r"^(from|sent by|sent|date|to|cc|bcc|subject)\s*:\s*(.*)$", re.IGNORECASE)
# Lotus Notes quoting: `"Name" <a@b.c> on 03/12/2001 10:00 AM` or `Name/HOU/ECT@ECT on 03/12/2001 10:00 AM`
_NOTES_HEADER = re.compile(
    r"^(.{2,120}?)\s+on\s+\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AP]M)?\s*$", re.IGNORECASE
)
_ON_WROTE = re.compile(r"^on\s.*,\s*(.+?)\s*wrote:\s*$", re.IGNORECASE)
_QUOTED_CHARS = 2000  # enough of the original to know what was asked


def quoted_original(body: str) -> Quoted | None:
    """The first earlier message quoted under the fresh text of `body`, or None when nothing is quoted.

    Recognises an "-----Original Message-----" block, an "On <date>, <name> wrote:" line over `>` quotes,
    a Lotus Notes "<name> on <date>" header over To/cc/Subject lines, and bare `>` quoting. Forwarded
    mail is not an answer, so a "Forwarded" block is no original."""
    lines = body.replace("\r\n", "\n").split("\n")
    for i, raw in enumerate(lines):
        line = raw.strip()
        if re.search(r"forwarded", line, re.IGNORECASE) and line.startswith("-"):
            return None
        if _ORIGINAL.match(line):
            return _headed(lines[i + 1 :], "")
        if wrote := _ON_WROTE.match(line):
            return _quote(_author(wrote.group(1)), "", _unquoted(lines[i + 1 :]))
        notes = _NOTES_HEADER.match(line)
        if notes and any(_QUOTE_HEADER.match(n.strip()) for n in lines[i + 1 : i + 4]):
            return _headed(lines[i + 1 :], _author(notes.group(1)))
        if line.startswith(">"):
            return _quote("", "", _unquoted(lines[i:]))
    return None


def _headed(lines: list[str], author: str) -> Quoted | None:
    """A quoted message that starts with From/Sent/To/Subject lines (blank lines between them allowed)."""
    subject, i = "", 0
    while i < len(lines):
        line = lines[i].strip()
        header = _QUOTE_HEADER.match(line)
        if header:
            name, value = header.group(1).lower(), header.group(2).strip()
            author = _author(value) if name == "from" and not author else author
            subject = value if name == "subject" else subject
        elif line and not (i and lines[i - 1].rstrip().endswith(",")):  # a wrapped To/cc list goes on
            break
        i += 1
    return _quote(author, subject, _until_next_quote(lines[i:]))


def _until_next_quote(lines: list[str]) -> list[str]:
    kept = []
    for line in lines:
        stripped = line.strip()
        if (
            _ORIGINAL.match(stripped)
            or _ON_WROTE.match(stripped)
            or _NOTES_HEADER.match(stripped)
            or (stripped.startswith("-----") and "forwarded" in stripped.lower())
        ):
            break
        kept.append(line)
    return kept


def _unquoted(lines: list[str]) -> list[str]:
    """The first level of `>` quoting, de-quoted: what the quoted writer wrote, not what they quoted."""
    kept = [re.sub(r"^\s*> ?", "", line) for line in lines if line.lstrip().startswith(">")]
    return _until_next_quote([line for line in kept if not line.lstrip().startswith(">")])


def _author(text: str) -> str:
    """An address when the header has one, else the name as written ("Lay, Kenneth", "Jo Li/HOU/ECT")."""
    name, address = _addresses(text)[0] if "@" in text else (text, "")
    return (address or name).strip().strip("\"'").strip()


def _quote(author: str, subject: str, lines: list[str]) -> Quoted | None:
    fresh, _ = _cut_signature(lines)
    text = _tidy(fresh)[:_QUOTED_CHARS]
    return Quoted(author=author, subject=subject, text=text) if text else None


def _cut_signature(lines: list[str]) -> tuple[list[str], list[str]]:
    for i, line in enumerate(lines):
        if line.rstrip() == "--":  # the `-- ` delimiter (trailing space often lost in transit)
            return lines[:i], lines[i + 1 :]
        if _SENT_FROM.match(line.strip()):
            return lines[:i], lines[i:]
    return lines, []


def _tidy(lines: list[str]) -> str:
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in lines)).strip()

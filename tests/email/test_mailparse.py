from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from persona.channels.email.mailparse import MailParseError, Quoted, parse_mail, quoted_original, split_reply
from persona.errors import PersonaError


def test_full_message_fields() -> None:
    raw = (
        b"From: Dana Reyes <Dana@Example.com>\r\n"
        b'To: sam@example.com, "Lee, Pat" <pat@example.com>\r\n'
        b"Cc: Kim <kim@vendor.example>\r\n"
        b"Subject: =?utf-8?q?Re=3A_caf=C3=A9_plans?=\r\n"
        b"Date: Mon, 3 Mar 2025 10:00:00 +0100\r\n"
        b"Message-ID: <m2@example.com>\r\n"
        b"In-Reply-To: <m1@example.com>\r\n"
        b"References: <root@example.com> <m1@example.com>\r\n"
        b"\r\n"
        b"Hi Sam,\r\n\r\nTuesday works.\r\n\r\nThanks,\r\nDana\r\n"
    )
    mail = parse_mail(raw)
    assert mail.message_id == "<m2@example.com>"
    assert mail.thread_id == "<root@example.com>"
    assert mail.in_reply_to == "<m1@example.com>"
    assert mail.references == ["<root@example.com>", "<m1@example.com>"]
    assert (mail.from_name, mail.from_addr) == ("Dana Reyes", "dana@example.com")
    assert mail.to == ["sam@example.com", "pat@example.com"]
    assert mail.cc == ["kim@vendor.example"]
    assert mail.subject == "Re: café plans"
    assert mail.date == datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    assert mail.fresh == "Hi Sam,\n\nTuesday works.\n\nThanks,\nDana"


def test_thread_id_falls_back_to_in_reply_to_then_own_id() -> None:
    reply = parse_mail(b"Message-ID: <b@x>\nIn-Reply-To: <a@x>\n\nok\n")
    assert reply.thread_id == "<a@x>"
    alone = parse_mail(b"Message-ID: <c@x>\n\nhello\n")
    assert alone.thread_id == "<c@x>"


def test_missing_headers_get_stable_hash_id() -> None:
    raw = b"just a body without any headers at all\n"
    first, second = parse_mail(raw), parse_mail(raw)
    assert first.message_id == second.message_id
    assert first.message_id.startswith("<") and first.message_id.endswith(">")
    assert parse_mail(b"another body\n").message_id != first.message_id
    assert first.thread_id == first.message_id
    assert (first.from_addr, first.to, first.date, first.subject) == ("", [], None, "")


def test_empty_input_is_the_only_error() -> None:
    with pytest.raises(MailParseError) as info:
        parse_mail(b"")
    assert isinstance(info.value, PersonaError)
    with pytest.raises(MailParseError):
        parse_mail(b"  \r\n ")


@pytest.mark.parametrize(
    "raw",
    [
        b"\x00\xff\xfe garbage \x80\x81",
        b"From: <<<>>>\nDate: yesterday-ish\nTo: ,,,@@\nSubject: =?bogus?Q?x?=\n\nbody",
        b"Content-Type: multipart/mixed\n\nno boundary parameter here",
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n!!!notbase64",
    ],
)
def test_garbage_never_raises(raw: bytes) -> None:
    mail = parse_mail(raw)
    assert mail.message_id


def test_unknown_charset_decodes_with_replacement() -> None:
    raw = (
        b"Content-Type: text/plain; charset=x-no-such-charset\n"
        b"Content-Transfer-Encoding: 8bit\n\n"
        b"Caf\xc3\xa9 at noon \xff works\n"
    )
    assert parse_mail(raw).body == "Café at noon \ufffd works"


def test_wrong_declared_charset_replaces_bad_bytes() -> None:
    raw = b"Content-Type: text/plain; charset=utf-8\n\nna\xefve r\xe9sum\xe9\n"
    body = parse_mail(raw).body
    assert body.startswith("na") and "\ufffd" in body and "sum" in body


def test_quoted_printable_and_base64() -> None:
    qp = parse_mail(
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
        b"Let=E2=80=99s ship a very long line that was soft-=\nwrapped by the sender.\n"
    )
    assert qp.body == "Let\u2019s ship a very long line that was soft-wrapped by the sender."
    b64 = parse_mail(
        b"Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: base64\n\n"
        b"R3L832UgYXVzIEvDtmxu\n"
    )
    assert b64.body.startswith("Gr")


def test_html_only_becomes_text() -> None:
    raw = (
        b"Content-Type: text/html; charset=utf-8\n\n"
        b"<html><head><style>p {color: red}</style><title>T</title></head><body>"
        b"<p>Hello&nbsp;team,</p><div>The <b>launch</b> is on Friday &amp; on time.</div>"
        b"<script>alert(1)</script></body></html>"
    )
    body = parse_mail(raw).body
    assert body == "Hello team,\n\nThe launch is on Friday & on time."


NESTED = b"""From: Sam <sam@example.com>
Subject: nested
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8

Plain version of the update.
--inner
Content-Type: text/html; charset=utf-8

<p>HTML version of the update.</p>
--inner--
--outer
Content-Type: text/plain; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"

attachment text that is not the body
--outer
Content-Type: message/rfc822

From: someone@else.example
Subject: forwarded

forwarded text is not the writer's body
--outer--
"""


def test_nested_multipart_prefers_plain_and_skips_attachments() -> None:
    mail = parse_mail(NESTED)
    assert mail.body == "Plain version of the update."
    assert mail.subject == "nested"


def test_truncated_mime_keeps_what_arrived() -> None:
    cut = NESTED[: NESTED.index(b"--inner\nContent-Type: text/html")] + b"--inner\nContent-Type: text/ht"
    mail = parse_mail(cut)
    assert "Plain version of the update." in mail.body


def test_html_used_when_plain_part_is_empty() -> None:
    raw = (
        b'Content-Type: multipart/alternative; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\n\n--b\nContent-Type: text/html\n\n<p>Only html here</p>\n--b--\n"
    )
    assert parse_mail(raw).body == "Only html here"


# --- quote and signature stripping -----------------------------------------------------------------


def test_on_wrote_history_and_dash_signature_removed() -> None:
    body = (
        "Hi Sam,\n\nSounds good, let's meet Tuesday.\n\nThanks,\nDana\n\n-- \nDana Reyes | Northwind\n"
        "+49 555 1234\n\nOn Mon, 3 Mar 2025 at 10:00, Sam Okafor <sam@example.com> wrote:\n> Can we meet?\n"
    )
    fresh, signature = split_reply(body)
    assert fresh == "Hi Sam,\n\nSounds good, let's meet Tuesday.\n\nThanks,\nDana"
    assert signature == "Dana Reyes | Northwind\n+49 555 1234"


def test_wrapped_on_wrote_header_removed() -> None:
    body = (
        "Works for me.\n\nOn Mon, Mar 3, 2025 at 10:00 AM Sam Okafor\n<sam@example.com> wrote:\n\n"
        "> Does Tuesday work?\n> Sam\n"
    )
    assert split_reply(body)[0] == "Works for me."


def test_bare_quote_lines_removed_inline_reply_kept() -> None:
    body = "> Can you send the deck?\nYes, attached.\n> And the numbers?\nThey follow tomorrow.\n"
    assert split_reply(body)[0] == "Yes, attached.\nThey follow tomorrow."


def test_outlook_original_message_removed() -> None:
    body = (
        "Approved, go ahead.\n\n-----Original Message-----\nFrom: Kim <kim@vendor.example>\n"
        "Sent: Monday, March 3, 2025 9:00 AM\nTo: Dana\nSubject: PO 4471\n\nPlease approve PO 4471.\n"
    )
    assert split_reply(body)[0] == "Approved, go ahead."


def test_mobile_trailer_is_signature() -> None:
    fresh, signature = split_reply("On my way, 5 min.\n\nSent from my iPhone\n")
    assert (fresh, signature) == ("On my way, 5 min.", "Sent from my iPhone")


def test_hyphen_list_is_not_a_signature() -> None:
    body = "Agenda:\n- budget\n- hiring\n\nThanks,\nDana"
    assert split_reply(body)[0] == body


def test_fully_quoted_forward_has_no_fresh_text() -> None:
    assert split_reply("> only quoted\n> lines here\n")[0] == ""


@settings(max_examples=150, deadline=None)
@given(
    st.binary(max_size=600),
    st.sampled_from([b"", NESTED[:200], b"Content-Type: text/plain; charset=utf-7\n\n"]),
)
@example(b'Content-Type: text/plain; charset="utf\x00-8"\n\nhi', b"")  # a charset that is not even a name
def test_arbitrary_bytes_parse_or_raise_only_mailparseerror(noise: bytes, prefix: bytes) -> None:
    data = prefix + noise
    try:
        mail = parse_mail(data)
    except MailParseError:
        assert not data.strip()
    else:
        assert mail.message_id and mail.thread_id


def test_the_quoted_original_under_a_reply_is_read_in_the_common_styles() -> None:
    outlook = (
        'Thanks, I will be there.\n\n -----Original Message-----\nFrom: \t"Smith, John" <js@x.example>\n'
        "Sent:\tMonday, March 12, 2001 10:00 AM\nTo:\tLay, Kenneth\nSubject:\tDinner on the 20th\n\n"
        "Ken, would you join us on the 20th?\n\nJohn\n -----Original Message-----\nFrom: older\n\nold"
    )
    assert quoted_original(outlook) == Quoted(
        author="js@x.example",
        subject="Dinner on the 20th",
        text="Ken, would you join us on the 20th?\n\nJohn",
    )
    notes = (
        'No thanks.\n\n"Jane Roe" <jane@x.example> on 03/12/2001 10:00:00 AM\nSent by: Ann Lee\n'
        "To: Kenneth Lay/HOU/EES@EES\n"
        "cc: Rosalee Fleming/Corp/Enron@ENRON,\n      Bob/HOU/ECT@ECT\nSubject: Speaking at our event\n\n\n"
        "Dear Mr. Lay, we invite you to speak.\n"
    )
    assert quoted_original(notes) == Quoted(
        author="jane@x.example", subject="Speaking at our event", text="Dear Mr. Lay, we invite you to speak."
    )
    gmail = (
        "Sure.\n\nOn Mon, 3 Mar 2025 at 10:00, Priya Raman wrote:\n> Can you send the deck?\n>> older quote\n"
    )
    assert quoted_original(gmail) == Quoted(author="Priya Raman", text="Can you send the deck?")
    assert quoted_original("Just a note, nothing quoted.") is None
    forwarded = (
        "FYI\n---------------------- Forwarded by Ro Fleming/Corp/Enron on 01/02/2001 ---\nFrom: x\n\nstuff"
    )
    assert quoted_original(forwarded) is None  # a forward passes mail on; it answers nothing


def test_parse_mail_keeps_the_quoted_original_apart_from_the_fresh_text() -> None:
    data = (
        b"From: Dana <dana@example.com>\r\nTo: sam@example.com\r\nSubject: Re: Budget\r\n\r\n"
        b"Attached.\r\n\r\nOn Mon, 3 Mar 2025, Sam <sam@example.com> wrote:\r\n> Can you send the budget?\r\n"
    )
    mail = parse_mail(data)
    assert mail.fresh == "Attached."
    assert mail.quoted == Quoted(author="sam@example.com", text="Can you send the budget?")

from __future__ import annotations

import json
import mailbox
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from persona.memory.loaders import Document, Skipped, iter_documents


def _mail(sender: str, subject: str, body: str, msgid: str, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "sam@example.com"
    msg["Subject"] = subject
    msg["Date"] = "Tue, 04 Mar 2025 08:30:00 +0000"
    msg["Message-ID"] = msgid
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def _docs(path: Path) -> tuple[list[Document], list[Skipped]]:
    items = list(iter_documents(path))
    return [d for d in items if isinstance(d, Document)], [s for s in items if isinstance(s, Skipped)]


def test_eml_file(tmp_path: Path) -> None:
    path = tmp_path / "one.eml"
    path.write_bytes(
        _mail(
            "Dana <DANA@example.com>", "Plan", "Let's go.\n\n> old\n", "<p1@x>", In_Reply_To="<p0@x>"
        ).as_bytes()
    )
    [doc], skipped = _docs(path)
    assert skipped == []
    assert doc.kind == "mail"
    assert doc.text == "Let's go."
    assert doc.author == "dana@example.com"
    assert doc.recipients == ["sam@example.com"]
    assert doc.subject == "Plan"
    assert doc.thread_id == "<p0@x>"
    assert doc.date == datetime(2025, 3, 4, 8, 30, tzinfo=UTC)
    assert doc.source == str(path)
    assert doc.meta["message_id"] == "<p1@x>"
    assert doc.meta["in_reply_to"] == "<p0@x>"


def test_mbox_by_suffix_and_by_content(tmp_path: Path) -> None:
    for name in ("archive.mbox", "Sent"):
        box = mailbox.mbox(tmp_path / name)
        box.add(_mail("a@example.com", "first", "From the start: one.\n", "<a1@x>"))
        box.add(_mail("b@example.com", "second", "Two.\n", "<b1@x>"))
        box.close()
    docs, skipped = _docs(tmp_path)
    assert skipped == []
    assert [(d.subject, d.text) for d in docs] == [
        ("first", "From the start: one."),
        ("second", "Two."),
        ("first", "From the start: one."),
        ("second", "Two."),
    ]
    assert docs[0].source == f"{tmp_path / 'Sent'}#0"
    assert docs[3].source == f"{tmp_path / 'archive.mbox'}#1"


def test_text_note_starting_with_from_is_a_note_not_mbox(tmp_path: Path) -> None:
    (tmp_path / "idea.txt").write_text("From now on we review budgets monthly.\n")
    [doc], _ = _docs(tmp_path)
    assert (doc.kind, doc.text) == ("note", "From now on we review budgets monthly.")


def test_maildir_with_subfolders(tmp_path: Path) -> None:
    root = mailbox.Maildir(tmp_path / "Mail", create=True)
    root.add(_mail("a@example.com", "inbox one", "In the inbox.\n", "<i1@x>"))
    sent = root.add_folder("Sent")  # Maildir++: .Sent beside cur/new/tmp
    sent.add(_mail("dana@example.com", "sent one", "I sent this.\n", "<s1@x>"))
    (tmp_path / "Mail" / "dovecot-uidlist").write_text("3 V1 N2\n")  # server bookkeeping, not mail
    docs, skipped = _docs(tmp_path / "Mail")
    assert skipped == []
    assert sorted(d.subject for d in docs) == ["inbox one", "sent one"]
    assert all("#" in d.source for d in docs)


def test_notes(tmp_path: Path) -> None:
    (tmp_path / "plan.md").write_text("# Q3 plan\n\nHire two engineers.\r\n")
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9 notes")
    docs, _ = _docs(tmp_path)
    by_name = {Path(d.source).name: d for d in docs}
    assert by_name["plan.md"].kind == "note"
    assert by_name["plan.md"].subject == "Q3 plan"
    assert by_name["plan.md"].text == "# Q3 plan\n\nHire two engineers."
    assert by_name["bad.txt"].text == "caf\ufffd notes"
    assert by_name["plan.md"].date is not None and by_name["plan.md"].date.tzinfo is not None


def test_chat_export_object_and_list(tmp_path: Path) -> None:
    (tmp_path / "chat.json").write_text(
        json.dumps(
            {
                "title": "Launch room",
                "participants": ["dana@example.com", "Sam"],
                "messages": [
                    {"from": "Dana@Example.com", "date": "2025-03-03T10:00:00+01:00", "text": "Demo Friday?"},
                    {"from": "Sam", "to": ["dana@example.com"], "date": "2025-03-03T10:05:00", "text": "Yes"},
                    {"from": "Sam", "date": "2025-03-03T10:06:00Z", "text": "   "},
                ],
            }
        )
    )
    (tmp_path / "list.json").write_text(json.dumps([{"from": "kim", "date": "2025-01-01", "text": "hi"}]))
    docs, skipped = _docs(tmp_path)
    assert skipped == []
    first, second, listed = docs
    assert (first.kind, first.author, first.text, first.subject) == (
        "chat",
        "dana@example.com",
        "Demo Friday?",
        "Launch room",
    )
    assert first.recipients == ["sam"]
    assert first.date == datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    assert (second.author, second.meta["from_name"], second.recipients) == ("", "Sam", ["dana@example.com"])
    assert second.date == datetime(2025, 3, 3, 10, 5, tzinfo=UTC)
    assert first.thread_id == second.thread_id != listed.thread_id
    assert listed.meta["from_name"] == "kim"


def test_unreadable_inputs_are_skipped_with_reasons(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "wrong.json").write_text(json.dumps({"messages": [{"text": "no sender"}]}))
    (tmp_path / "empty.eml").write_bytes(b"")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: x")
    docs, skipped = _docs(tmp_path)
    assert docs == []
    reasons = {Path(s.source).name: s.reason for s in skipped}
    assert set(reasons) == {"broken.json", "wrong.json", "empty.eml", "photo.jpg"}
    assert reasons["broken.json"].startswith("not valid JSON")
    assert "messages.0.from" in reasons["wrong.json"]
    assert reasons["empty.eml"] == "empty message: nothing to parse"
    assert reasons["photo.jpg"] == "unsupported file type"
    assert list(iter_documents(tmp_path / "missing")) == [
        Skipped(source=str(tmp_path / "missing"), reason="no such file or folder")
    ]


def test_ids_are_stable_and_distinct(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(_mail("a@example.com", "s", "same words\n", "<1@x>").as_bytes())
    (tmp_path / "b.eml").write_bytes(_mail("a@example.com", "s", "other words\n", "<2@x>").as_bytes())
    first = [d.id for d in _docs(tmp_path)[0]]
    assert first == [d.id for d in _docs(tmp_path)[0]]
    assert len(set(first)) == 2

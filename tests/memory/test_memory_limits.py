"""Junk costs little at ingest: size limits per kind of file, a look at the first KB, bounded MIME,
and each real file read once however many links lead to it."""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

import pytest

from persona.channels.email.mailparse import MailParseError, parse_mail, split_reply
from persona.input_limits import IngestLimits, not_text
from persona.memory.loaders import Document, Skipped, iter_documents

MAIL = b"From: sam@example.com\nTo: dana@example.com\nSubject: Budget\n\nThe budget is 40k.\n"


def _read(path: Path, limits: IngestLimits | None = None) -> tuple[list[Document], dict[str, str]]:
    found = list(iter_documents(path, limits))
    docs = [d for d in found if isinstance(d, Document)]
    return docs, {Path(s.source).name: s.reason for s in found if isinstance(s, Skipped)}


@pytest.mark.parametrize("name", ["junk.eml", "junk.mbox", "junk.txt", "junk.md", "junk.json"])
def test_random_bytes_under_any_name_are_skipped_as_binary(tmp_path: Path, name: str):
    (tmp_path / name).write_bytes(os.urandom(200_000))
    docs, skipped = _read(tmp_path)
    assert docs == [] and skipped[name].startswith("binary, not text")


def test_a_binary_file_that_starts_like_mail_is_still_binary(tmp_path: Path):
    (tmp_path / "junk").write_bytes(b"From: sam@example.com\n" + os.urandom(200_000))
    (tmp_path / "box").write_bytes(b"From sam@example.com Mon Jan  1 00:00:00 2024\n" + os.urandom(200_000))
    docs, skipped = _read(tmp_path)
    assert docs == [] and set(skipped) == {"junk", "box"}
    assert all(reason.startswith("binary, not text") for reason in skipped.values())


def test_text_with_a_few_latin1_bytes_is_still_text():
    assert not_text("Grüße aus Köln, ça va? Voilà.\n".encode("latin-1") * 20) is None
    assert not_text("Grüße aus Köln\n".encode() * 50) is None


def test_a_50_mb_random_eml_is_refused_unread(tmp_path: Path):
    junk = tmp_path / "junk.eml"
    with junk.open("wb") as handle:
        for _ in range(50):
            handle.write(os.urandom(1024 * 1024))
    tracemalloc.start()
    started = time.perf_counter()
    docs, skipped = _read(tmp_path)
    took, peak = time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert docs == [] and skipped["junk.eml"] == "mail larger than 25 MiB (PERSONA_INGEST_MAX_MAIL_BYTES)"
    assert took < 2 and peak < 1024 * 1024


def test_each_kind_has_its_own_size_limit(tmp_path: Path):
    (tmp_path / "note.md").write_text("word " * 400)
    (tmp_path / "chat.json").write_text('[{"from": "sam", "text": "' + "hi " * 400 + '"}]')
    (tmp_path / "one.eml").write_bytes(MAIL + b"x" * 2000)
    (tmp_path / "box.mbox").write_bytes(
        b"From sam@example.com Mon Jan  1 00:00:00 2024\n" + MAIL + b"y" * 2000
    )
    small = IngestLimits(mail_bytes=1000, note_bytes=1000, chat_bytes=1000, mbox_bytes=100_000)
    docs, skipped = _read(tmp_path, small)
    assert docs == []
    assert (
        skipped
        == {
            "note.md": "note larger than 1000 bytes (PERSONA_INGEST_MAX_NOTE_BYTES)",
            "chat.json": "chat export larger than 1000 bytes (PERSONA_INGEST_MAX_CHAT_BYTES)",
            "one.eml": "mail larger than 1000 bytes (PERSONA_INGEST_MAX_MAIL_BYTES)",
            "box.mbox#0": "mail larger than 1000 bytes (PERSONA_INGEST_MAX_MAIL_BYTES)",  # the mbox is read, its message is not
        }
    )
    assert len(_read(tmp_path)[0]) == 4  # the defaults read them all


def test_an_mbox_without_messages_says_so(tmp_path: Path):
    (tmp_path / "empty.mbox").write_text("Just some words, no From line.\n")
    assert _read(tmp_path) == ([], {"empty.mbox": "no messages found"})


def test_a_mail_of_too_many_mime_parts_is_skipped(tmp_path: Path):
    parts = b"".join(b"--b\nContent-Type: text/plain\n\npart %d\n" % i for i in range(30))
    mail = MAIL.replace(b"\n\n", b"\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n", 1)
    (tmp_path / "many.eml").write_bytes(mail + parts + b"--b--\n")
    docs, skipped = _read(tmp_path, IngestLimits(mime_parts=10))
    assert docs == [] and skipped == {"many.eml": "more than 10 MIME parts (PERSONA_INGEST_MAX_MIME_PARTS)"}
    assert "part 29" in _read(tmp_path)[0][0].text


def test_mime_nested_too_deep_is_a_parse_error_not_a_crash():
    depth = 3000
    nested = b"".join(
        b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (i, i + 1) for i in range(depth)
    )
    mail = b"From: sam@example.com\nContent-Type: multipart/mixed; boundary=b0\n\n" + nested
    with pytest.raises(MailParseError, match="nested too deep"):
        parse_mail(mail + b"--b%d\nContent-Type: text/plain\n\ndeep\n" % depth, max_parts=10**6)


def test_the_reply_splitter_reads_the_start_of_a_long_body_only():
    body = "The budget is 40k.\n\n" + "filler words here\n" * 100_000
    tracemalloc.start()
    fresh, _ = split_reply(body)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert fresh.startswith("The budget is 40k.") and peak < 100 * 1024 * 1024


def test_a_link_loop_reads_each_file_once(tmp_path: Path):
    notes = tmp_path / "notes"
    (notes / "sub").mkdir(parents=True)
    (notes / "plan.md").write_text("# Plan\nThe offsite is in Lisbon.\n")
    (notes / "sub" / "loop").symlink_to(notes)  # notes/sub/loop/sub/loop/... for ever
    (notes / "alias.md").symlink_to(notes / "plan.md")
    (notes / "self").symlink_to(notes / "self")
    docs, skipped = _read(notes)
    assert [d.text for d in docs] == ["# Plan\nThe offsite is in Lisbon."]
    assert skipped == {
        "plan.md": "read already (by another path or link)",
        "loop": "read already (by another path or link)",
        "self": "a link that leads nowhere or in a loop",
    }

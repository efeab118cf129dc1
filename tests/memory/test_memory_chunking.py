from __future__ import annotations

import itertools
import re

from persona.memory.chunking import chunk_text, estimate_tokens


def _sentences(n: int) -> list[str]:
    return [
        f"Sentence number {i} talks about the quarterly budget review and the hiring plan." for i in range(n)
    ]


def test_short_text_stays_whole() -> None:
    assert chunk_text("  Short note about lunch.  ") == ["Short note about lunch."]
    assert chunk_text("") == []


def test_long_text_splits_on_sentences_within_budget_with_overlap() -> None:
    sentences = _sentences(40)  # ~14 tokens each, ~560 tokens in all
    text = " ".join(sentences[:20]) + "\n\n" + " ".join(sentences[20:])
    chunks = chunk_text(text, max_tokens=120, overlap_tokens=20)
    assert len(chunks) >= 5
    assert all(estimate_tokens(c) <= 120 for c in chunks)
    assert all(estimate_tokens(c) >= 60 for c in chunks[:-1])
    for chunk in chunks:  # boundaries fall between sentences, never inside one
        assert chunk.startswith("Sentence number") and chunk.endswith(".")
    for before, after in itertools.pairwise(chunks):  # the last sentence of a chunk opens the next
        assert after.startswith(re.split(r"(?<=\.)\s+", before)[-1])
    covered = " ".join(chunks)
    assert all(s in covered for s in sentences)


def test_paragraphs_are_kept_together_when_they_fit() -> None:
    paragraphs = [" ".join(_sentences(3)).replace("Sentence", f"P{p}") for p in range(6)]
    chunks = chunk_text("\n\n".join(paragraphs), max_tokens=120, overlap_tokens=0)
    for paragraph in paragraphs:
        assert any(paragraph in chunk for chunk in chunks)


def test_run_on_text_without_punctuation_is_windowed() -> None:
    text = " ".join(f"word{i}" for i in range(600))
    chunks = chunk_text(text, max_tokens=100, overlap_tokens=0)
    assert all(estimate_tokens(c) <= 100 for c in chunks)
    assert " ".join(chunks).split() == text.split()

"""Split long texts into retrieval-sized chunks on paragraph and sentence boundaries.

Sizes are counted in estimated tokens (words and punctuation marks), which tracks the embedding
model's word pieces closely enough for English prose without loading a tokenizer.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\w+|[^\w\s]")
_PARAGRAPH = re.compile(r"\n\s*\n")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)")


def estimate_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def chunk_text(text: str, max_tokens: int = 120, overlap_tokens: int = 20) -> list[str]:
    """Texts up to `max_tokens` stay whole; longer ones are packed from paragraphs, then sentences,
    then word windows, each chunk repeating up to `overlap_tokens` of the previous one's end."""
    text = text.strip()
    if not text:
        return []
    if estimate_tokens(text) <= max_tokens:
        return [text]
    units = [u for p in _PARAGRAPH.split(text) for u in _units(p.strip(), max_tokens) if u]
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for unit in units:
        cost = estimate_tokens(unit)
        if current and size + cost > max_tokens:
            chunks.append(_join(current))
            current = _tail(current, overlap_tokens, max_tokens - cost)
            size = sum(estimate_tokens(u) for u in current)
        current.append(unit)
        size += cost
    if current:
        chunks.append(_join(current))
    return chunks


def _units(paragraph: str, max_tokens: int) -> list[str]:
    """A paragraph as one unit, or its sentences, or word windows of a sentence too long to keep."""
    if estimate_tokens(paragraph) <= max_tokens:
        return [paragraph + "\n\n"]
    units: list[str] = []
    for sentence in _SENTENCE.split(paragraph):
        if estimate_tokens(sentence) <= max_tokens:
            units.append(sentence + " ")
            continue
        words = sentence.split()
        step = max(1, max_tokens * 2 // 3)  # words run ~1.3 tokens; leave room
        units.extend(" ".join(words[i : i + step]) + " " for i in range(0, len(words), step))
    if units:
        units[-1] = units[-1].rstrip() + "\n\n"
    return units


def _tail(units: list[str], overlap_tokens: int, room: int) -> list[str]:
    """The last sentences of a chunk that fit the overlap (and the room left for the next unit)."""
    kept: list[str] = []
    size = 0
    for unit in reversed(units):
        cost = estimate_tokens(unit)
        if size + cost > min(overlap_tokens, room):
            break
        kept.insert(0, unit)
        size += cost
    return kept


def _join(units: list[str]) -> str:
    return "".join(units).strip()

"""The lines of a long memory item that bear on a question, so a chat prompt carries those and not the rest.

A chunk holds up to ~120 words and marks (persona.memory.chunking); the four hits a chat answer is
grounded on were ~650 of its prompt's ~1,100 tokens, read anew by the model for every question, while
the persona prefix before them comes from the server's cache. On the demo's 20 labelled questions
(evals/retrieval), keeping each hit's lines most similar to the question up to FOCUS_TOKENS kept every
answer the whole hits held (16 of 16) in a quarter fewer tokens (468 -> 351 a question); splitting long
lines into sentences lost one, and choosing lines by shared words instead of similarity lost three.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from persona.memory.chunking import estimate_tokens

FOCUS_TOKENS = 60  # per hit, in estimate_tokens' words and marks
GAP = "…"  # a line of its own where lines were left out: the lines around it are not one passage

Embed = Callable[[list[str]], list[list[float]]]


def focused(
    texts: Sequence[str], question: Sequence[float], embed: Embed, tokens: int = FOCUS_TOKENS
) -> list[str]:
    """Each text as it is when it fits `tokens` or is one line; else its lines most similar to the
    question (a unit vector), the most similar first while they fit, the best one always, shown in their
    own order. One `embed` call for the lines of all the texts."""
    lines = {
        i: [line for line in text.splitlines() if line.strip()]
        for i, text in enumerate(texts)
        if estimate_tokens(text) > tokens
    }
    lines = {i: found for i, found in lines.items() if len(found) > 1}
    if not lines:
        return list(texts)
    flat = [line for found in lines.values() for line in found]
    similarity = np.asarray(embed(flat), dtype=np.float32) @ np.asarray(question, dtype=np.float32)
    result, start = list(texts), 0
    for i, found in lines.items():
        scores, start = similarity[start : start + len(found)], start + len(found)
        kept: list[int] = []
        used = 0
        for j in np.argsort(-scores, kind="stable"):
            cost = estimate_tokens(found[j])
            if kept and used + cost > tokens:
                continue
            kept.append(int(j))
            used += cost
        result[i] = _shown(found, sorted(kept))
    return result


def _shown(lines: list[str], kept: list[int]) -> str:
    """The kept lines in their order, with GAP wherever lines were left out (before, between or after)."""
    out = [GAP] if kept[0] > 0 else []
    for before, j in zip([kept[0] - 1, *kept], kept):
        if j - before > 1:
            out.append(GAP)
        out.append(lines[j])
    return "\n".join(out + ([GAP] if kept[-1] < len(lines) - 1 else []))

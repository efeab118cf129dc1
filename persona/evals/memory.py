"""`persona eval memory FILE`: how much of a long conversation memory can find again, on LoCoMo.

LoCoMo (Maharana et al., ACL 2024) holds long multi-session conversations between two people and
questions whose answers sit in known messages (`evidence`: dia_ids such as "D3:12"). The eval writes
each session as a chat export (the format `persona ingest` reads), ingests them into a fresh home with
the first speaker as the owner, and asks every answerable question through `MemoryStore.search`,
the search a chat turn runs. A hit is an evidence message when it is that message's own item.

Reported per question category: evidence recall in the top 4 (what a turn shows the model) and top 10,
and MRR@10; beside them, in the same run, a plain dense baseline: the same embedder's nearest single
messages, with no keyword half and no context. With `qa`, a sample of the questions is also asked of the
twin itself, on the same home, and its answers scored (persona.evals.memory_qa).
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from persona.app import App
from persona.errors import PersonaError
from persona.evals.memory_qa import Answer, QAScores, ask_all, sample, scores
from persona.home import Home
from persona.llm.client import LLM
from persona.memory.embedding import Embedder
from persona.memory.ingest import ingest
from persona.memory.store import MemoryStore
from persona.profile import Audience, Owner, Profile, save_profile
from persona.settings import Settings

CATEGORIES = {
    1: "multi-hop",
    2: "temporal",
    3: "open-domain",
    4: "single-hop",
}  # 5: adversarial, unanswerable
PROMPT_HITS = 4  # passages a chat turn puts in its prompt
TOP = 10
_SESSION = re.compile(r"session_(\d+)$")
Tick = Callable[[int, int], None]


class Question(BaseModel):
    conversation: str
    question: str
    answer: str
    category: str
    evidence: list[str]  # "<conversation>/D3:12"


class Scores(BaseModel):
    questions: int
    recall_at_4: float
    recall_at_10: float
    mrr: float


class MemoryReport(BaseModel):
    messages: int
    items: int
    ingest_seconds: float
    search_p50_ms: float
    product: dict[str, Scores]  # "all" and each category
    dense: dict[str, Scores]
    qa: dict[str, QAScores] = {}  # the twin's answers to a sample, when asked for
    answers: list[Answer] = []


class _Conversation(BaseModel):
    sample_id: str
    speakers: tuple[str, str]
    sessions: list[tuple[datetime | None, list[dict[str, Any]]]]
    questions: list[Question]


def load(path: Path) -> list[_Conversation]:
    """LoCoMo's JSON: a list of samples, each with `conversation` (speakers, sessions) and `qa`."""
    try:
        return [_conversation(sample) for sample in json.loads(path.read_text(encoding="utf-8"))]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # JSON, or a layout not LoCoMo's
        raise PersonaError(f"{path}: not LoCoMo-format conversations ({type(exc).__name__}: {exc})") from None


def _conversation(sample: dict[str, Any]) -> _Conversation:
    talk = sample["conversation"]
    cid = str(sample.get("sample_id", ""))
    numbers = sorted(int(m.group(1)) for key in talk if (m := _SESSION.match(key)))
    sessions = [
        (_session_date(talk.get(f"session_{n}_date_time", "")), talk[f"session_{n}"]) for n in numbers
    ]
    questions = [
        Question(
            conversation=cid,
            question=qa["question"],
            answer=str(qa.get("answer", "")),
            category=CATEGORIES[qa["category"]],
            evidence=[f"{cid}/{e}" for e in qa["evidence"]],
        )
        for qa in sample["qa"]
        if qa.get("category") in CATEGORIES and qa.get("evidence")
    ]
    return _Conversation(
        sample_id=cid, speakers=(talk["speaker_a"], talk["speaker_b"]), sessions=sessions, questions=questions
    )


def _session_date(text: str) -> datetime | None:
    """ "1:56 pm on 8 May, 2023" → a datetime (LoCoMo gives no zone: read as UTC)."""
    try:
        return datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y")
    except ValueError:
        return None


def _message_text(turn: dict[str, Any]) -> str:
    """A turn's words, and what a shared photo showed (LoCoMo keeps its caption beside the text)."""
    text = str(turn.get("text", "")).strip()
    if caption := str(turn.get("blip_caption", "") or "").strip():
        text = f"{text} [shares a photo: {caption}]".strip()
    return text


def write_exports(conversations: list[_Conversation], folder: Path) -> dict[str, str]:
    """One chat export per session; returns the source each message's item will carry → its dia_id."""
    sources: dict[str, str] = {}
    for conv in conversations:
        for number, (date, turns) in enumerate(conv.sessions, 1):
            path = folder / conv.sample_id / f"session_{number:02d}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            messages = []
            for turn in turns:
                if not (text := _message_text(turn)):
                    continue
                sources[f"{path}#{len(messages)}"] = f"{conv.sample_id}/{turn['dia_id']}"
                messages.append(
                    {"from": turn["speaker"], "text": text, "date": date.isoformat() if date else None}
                )
            path.write_text(
                json.dumps(
                    {
                        "title": f"{' and '.join(conv.speakers)}, session {number}",
                        "participants": list(conv.speakers),
                        "messages": messages,
                    }
                )
            )
    return sources


def _scores(ranked: list[list[str]], questions: list[Question]) -> dict[str, Scores]:
    """Per category and overall: the share of each question's evidence in its top 4 / top 10, and the
    reciprocal rank of the first evidence message in its top 10."""
    groups: dict[str, list[tuple[float, float, float]]] = {}
    for q, found in zip(questions, ranked):
        wanted = set(q.evidence)
        rank = next((i + 1 for i, id_ in enumerate(found[:TOP]) if id_ in wanted), None)
        row = (
            len(wanted & set(found[:PROMPT_HITS])) / len(wanted),
            len(wanted & set(found[:TOP])) / len(wanted),
            1 / rank if rank else 0.0,
        )
        for group in ("all", q.category):
            groups.setdefault(group, []).append(row)
    return {
        group: Scores(
            questions=len(rows),
            **{
                name: round(float(np.mean([r[i] for r in rows])), 3)
                for i, name in enumerate(("recall_at_4", "recall_at_10", "mrr"))
            },
        )
        for group, rows in groups.items()
    }


def run(
    data: Path,
    settings: Settings,
    embedder: Embedder,
    tick: Tick | None = None,
    qa: int = 0,
    llm: LLM | None = None,
) -> MemoryReport:
    """Recall (and, with `qa` > 0, the twin's answers to that many questions, asked with `llm` or the
    configured model) on a fresh home holding the conversations."""
    conversations = load(data)
    questions = [q for conv in conversations for q in conv.questions]
    with tempfile.TemporaryDirectory(prefix="persona-eval-memory-") as tmp:
        exports = Path(tmp) / "exports"
        sources = write_exports(conversations, exports)
        home = Home(Path(tmp) / "home").ensure()
        store = MemoryStore(home, settings, embedder)
        owner = conversations[0].speakers[0]
        profile = Profile(owner=Owner(name=owner, emails=[f"{owner.lower()}@locomo.example"]))
        started = time.perf_counter()
        ingest([exports], store=store, profile=profile, audience=Audience.OWNER)
        ingest_seconds = time.perf_counter() - started
        store.keep_vectors_in_memory()  # as the server does
        product: list[list[str]] = []
        took: list[float] = []
        for n, q in enumerate(questions):
            started = time.perf_counter()
            hits = store.search(q.question, [Audience.OWNER], k=TOP, kind="knowledge")
            took.append(time.perf_counter() - started)
            product.append([sources.get(str(h.metadata.get("source")), "") for h in hits])
            if tick:
                tick(n + 1, len(questions))
        dense = _dense(embedder, conversations, questions)
        answers: list[Answer] = []
        if qa > 0:
            save_profile(profile, home.profile_path)
            app = App(home, settings, llm=llm)
            answers = ask_all(app, sample(questions, qa), tick)
        return MemoryReport(
            messages=len(sources),
            items=store.count(),
            ingest_seconds=round(ingest_seconds, 1),
            search_p50_ms=round(float(np.median(took)) * 1000, 2),
            product=_scores(product, questions),
            dense=_scores(dense, questions),
            qa=scores(answers) if answers else {},
            answers=answers,
        )


def _dense(
    embedder: Embedder, conversations: list[_Conversation], questions: list[Question]
) -> list[list[str]]:
    """The baseline: each message alone, embedded with the same model, nearest first by cosine."""
    ids, texts = zip(*_messages(conversations))
    matrix = np.asarray(embedder.embed(list(texts)), dtype=np.float32)
    ranked = []
    for q in questions:
        sims = matrix @ np.asarray(embedder.embed_query(q.question), dtype=np.float32)
        ranked.append([ids[i] for i in np.argsort(-sims)[:TOP]])
    return ranked


def _messages(conversations: list[_Conversation]) -> Iterator[tuple[str, str]]:
    for conv in conversations:
        for _, turns in conv.sessions:
            for turn in turns:
                if text := _message_text(turn):
                    yield f"{conv.sample_id}/{turn['dia_id']}", text

"""Voice fidelity: how close the twin's drafted replies come to the replies the owner really wrote.

For each pair (an incoming mail and the owner's real reply) the twin drafts through `draft_reply`, the
same call the inbox flow makes (the triage step before it is skipped: its reason only feeds meeting
detection). A **baseline** drafts through the same call with the persona stripped to the owner's name
and address (no role, voice notes, style card or people) and no memory: the same LLM, no persona.

Scores per draft against the real reply:
- semantic similarity: cosine of the packaged embedding model's vectors (1 = same meaning);
- style distance: mean of five parts in [0, 1] computed from `style_features` (0 = same habits):
  length (relative word-count gap), greeting (one has one, the other not), sign-off (same),
  punctuation (gap in "!" and "?" sentence rates), formality (contraction-rate gap ×10, lowercase
  sentence starts and emoji, capped at 1);
- decision agreement: both texts classified by the same rules into accept / decline / reschedule /
  forward / inform / other (`decision_of`); rules, not the LLM, so the judge is not the model under test.

`pairs_from_home` builds pairs from the owner's ingested mail after a date; `held_out` gives the
twin a view of the same home whose memory (a `date_epoch` filter in every search) and style card
only know what came before that date.
"""

from __future__ import annotations

import json
import mailbox
import re
from collections.abc import Callable, Collection
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from persona.app import App
from persona.channels.email.base import IncomingMail
from persona.channels.email.channel import sender_principal
from persona.errors import ConfigError, NotReady
from persona.memory.mailparse import parse_mail
from persona.memory.style import compute_style_card, style_features
from persona.profile import Audience, Owner, Profile
from persona.skills.draft_reply import draft_reply

if TYPE_CHECKING:
    from persona.memory.store import Hit, MemoryStore
    from persona.memory.style import StyleCard

Decision = Literal["accept", "decline", "reschedule", "forward", "inform", "other"]
CLASSIFIER = "rules (persona.evals.replies.decision_of), the same for real replies and drafts"
BASELINE = "same LLM and draft_reply, persona reduced to the owner's name and address, no memory"


# --- pairs -----------------------------------------------------------------------------------------


class IncomingSide(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    from_: str = Field(default="", alias="from")
    to: str = ""
    subject: str = ""
    body: str


class ReplySide(BaseModel):
    model_config = ConfigDict(extra="allow")

    body: str


class Pair(BaseModel):
    id: str
    incoming: IncomingSide
    reply: ReplySide

    def mail(self) -> IncomingMail:
        name, address = parseaddr(self.incoming.from_)
        return IncomingMail(
            key=self.id, message_id=f"<{self.id}@replies-eval.invalid>", from_addr=address.lower(),
            from_name=name, to=[parseaddr(self.incoming.to)[1]], subject=self.incoming.subject,
            body=self.incoming.body, fresh=self.incoming.body,
        )


def load_pairs(path: Path) -> list[Pair]:
    """Pairs from a JSONL file; a bad line is reported with its number."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read pairs ({exc.strerror or exc})") from None
    pairs = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            pairs.append(Pair.model_validate_json(line))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "line"
            raise ConfigError(f"{path}:{number}: not a reply pair ({where}: {err['msg']})") from None
    return pairs


def pairs_from_home(app: App, split: datetime) -> tuple[list[Pair], int]:
    """(pairs, replies skipped): the owner's mail replies dated at or after `split`, each with the mail
    it answers: the ingested original when memory has it, else the quote inside the reply's source."""
    owner = app.profile.owner
    pairs, skipped = [], 0
    for text, meta in _stored_exemplars(app.memory, {"date_epoch": {"$gte": int(split.timestamp())}}):
        author, original = meta.get("incoming_author", ""), meta.get("incoming_text", "")
        if not original:
            author, original = _quoted_original(str(meta.get("source", "")))
        if not original.strip():
            skipped += 1
            continue
        sender = author or str(meta.get("recipients", "")).split(",")[0].strip()
        pairs.append(Pair(
            id=str(meta.get("doc_id") or len(pairs)),
            incoming=IncomingSide(from_=sender, to=owner.emails[0], subject=_unreplied(str(meta.get("subject", ""))),
                                  body=original),
            reply=ReplySide(body=text, date=meta.get("date", "")),
        ))
    pairs.sort(key=lambda p: str(getattr(p.reply, "date", "")))
    return pairs, skipped


def _stored_exemplars(store: MemoryStore, where: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Mail exemplars matching `where`, with metadata. MemoryStore has no public listing with metadata
    yet (wanted: `MemoryStore.items(kind, where)`); until then this is the one place that reads its
    collection directly."""
    got = store._collection.get(
        where={"$and": [{"kind": "exemplar"}, {"doc_kind": "mail"}, where]}, include=["documents", "metadatas"]
    )
    return list(zip(got["documents"] or [], [dict(m) for m in got["metadatas"] or []]))


_WROTE = re.compile(r"^On .*wrote:[ \t]*$", re.MULTILINE)
_ADDRESS = re.compile(r"<([^<>\s]+@[^<>\s]+)>")


def _quoted_original(source: str) -> tuple[str, str]:
    """(author, text) of the message quoted in the stored reply at `source` ("file#key" for mailboxes),
    or ("", "") when the file is gone or quotes nothing. Ingest keeps only the fresh text of a reply."""
    path, _, key = source.partition("#")
    try:
        if key and Path(path).is_dir():
            data = mailbox.Maildir(path, create=False).get_bytes(key)
        elif key:
            data = mailbox.mbox(path, create=False).get_bytes(int(key))
        else:
            data = Path(path).read_bytes()
    except (OSError, KeyError, ValueError):
        return "", ""
    body = parse_mail(data).body
    header = _WROTE.search(body)
    quoted = body[header.end():] if header else body
    lines = [re.sub(r"^> ?", "", line) for line in quoted.splitlines() if line.startswith(">")]
    author = _ADDRESS.search(header.group(0)) if header else None
    return (author.group(1).lower() if author else ""), "\n".join(lines).strip()[:2000]


def _unreplied(subject: str) -> str:
    return re.sub(r"^(re|aw|sv):\s*", "", subject, flags=re.IGNORECASE)


# --- the apps that draft ---------------------------------------------------------------------------


class DatedMemory:
    """A read-only view of a MemoryStore in which only items dated before `until` exist (undated ones,
    epoch 0, too): every search gets a `date_epoch` clause, the store itself is not copied."""

    def __init__(self, store: MemoryStore, until: datetime) -> None:
        self.store = store
        self.until = int(until.timestamp())

    def search(self, query: str, audiences: Collection[Audience], k: int = 5, kind: Any = None,
               where: dict[str, Any] | None = None) -> list[Hit]:
        window: dict[str, Any] = {"date_epoch": {"$lt": self.until}}
        return self.store.search(query, audiences, k=k, kind=kind,
                                 where={"$and": [where, window]} if where else window)

    def exemplars(self, query: str, audiences: Collection[Audience], k: int = 3,
                  where: dict[str, Any] | None = None) -> list[Hit]:
        return self.search(query, audiences, k=k, kind="exemplar", where=where)

    def exemplar_texts(self, doc_kind: str = "mail") -> list[str]:
        return [text for text, _ in _stored_exemplars(self.store, {"$and": [
            {"doc_kind": doc_kind}, {"date_epoch": {"$lt": self.until}}]})]


class _NoMemory:
    def search(self, *_args: object, **_kwargs: object) -> list:
        return []


class _ScopedApp(App):
    """An App on the same home and LLM whose profile, memory and style card are given, not read."""

    def __init__(self, base: App, profile: Profile, memory: object, style: StyleCard | None) -> None:
        super().__init__(base.home, base.settings, clock=base.clock)
        self.__dict__.update(profile=profile, memory=memory, embedder=base.embedder)
        self._base, self._style = base, style

    @property
    def llm(self):  # type: ignore[override]  # the base app's model, started only when a draft needs it
        return self._base.llm

    @property
    def style_card(self) -> StyleCard | None:
        return self._style


def held_out(app: App, split: datetime) -> App:
    """The twin as it was at `split`: memory and style card from what the owner had written before."""
    memory = DatedMemory(app.memory, split)
    texts = memory.exemplar_texts("mail")
    if not texts:
        raise NotReady(f"no mail written by the owner before {split:%Y-%m-%d} in memory; pick a later --split")
    return _ScopedApp(app, app.profile, memory, compute_style_card(texts, app.profile.owner.name))


def baseline(app: App) -> App:
    """The same LLM and drafting path with no persona (the owner's name and address only) and no memory."""
    owner = app.profile.owner
    return _ScopedApp(app, Profile(owner=Owner(name=owner.name, emails=owner.emails)), _NoMemory(), None)


# --- scores ----------------------------------------------------------------------------------------

_DECISION_RULES: list[tuple[Decision, re.Pattern[str]]] = [  # first match wins: most specific intent first
    ("forward", re.compile(
        r"\b(loop(?:ing)? in|cc(?:'?ing|'d)|forward(?:ing|ed)?|(?:talk|speak|reach out) to|ask \w+ (?:about|for|to)"
        r"|best person|hand(?:ing)? (?:this|it) (?:over|to)|over to \w+)\b", re.IGNORECASE)),
    ("reschedule", re.compile(
        r"\b(reschedul\w*|postpon\w*|move (?:it|this|our|the)\b|push (?:it|this|back)|another (?:day|time|slot)"
        r"|(?:how|what) about (?:mon|tue|wed|thu|fri|next|tomorrow)\w*|can we do \w+ instead|instead\?)", re.IGNORECASE)),
    ("decline", re.compile(
        r"((?:^|[.!?]\s+)no\b[,.!]|\bnot (?:this time|able|going to)\b|\bcan(?:no|')t (?:make|do|join|commit|approve|take)"
        r"|\bwon'?t (?:be able|make|approve|work)|\b(?:have|need) to (?:decline|pass|say no)|\bdecline\b"
        r"|\bI'?ll pass\b|\bunable to\b|\bisn'?t going to work)", re.IGNORECASE | re.MULTILINE)),
    ("accept", re.compile(
        r"\b(yes|(?<!make )(?<!not )sure|sounds good|works for me|(?:that|this|\w+day) works|happy to|approved?"
        r"|go ahead|agreed|count me in|looks good|lgtm|fine by me|confirmed?|I'?ll (?:be there|join|do it|own it|take it))\b",
        re.IGNORECASE)),
]


def decision_of(text: str) -> Decision:
    """What a reply decides, by rules; a reply deciding nothing is `inform` if it states something."""
    for decision, pattern in _DECISION_RULES:
        if pattern.search(text):
            return decision
    statements = [s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if len(s.split()) >= 5 and not s.strip().endswith("?")]
    return "inform" if statements else "other"


def style_distance(real: str, draft: str) -> tuple[float, dict[str, float]]:
    """(mean distance, its five parts), each in [0, 1]; 0 means the same measurable habits."""
    a, b = style_features(real), style_features(draft)
    longer = max(a["words"], b["words"]) or 1.0
    parts = {
        "length": abs(a["words"] - b["words"]) / longer,
        "greeting": abs(a["greeting"] - b["greeting"]),
        "signoff": abs(a["signoff"] - b["signoff"]),
        "punctuation": (abs(a["exclamation_rate"] - b["exclamation_rate"]) + abs(a["question_rate"] - b["question_rate"])) / 2,
        "formality": min(1.0, (min(1.0, 10 * abs(a["contraction_rate"] - b["contraction_rate"]))
                               + abs(a["lowercase_start_rate"] - b["lowercase_start_rate"]) + abs(a["emoji"] - b["emoji"])) / 3),
    }
    return sum(parts.values()) / len(parts), {k: round(v, 4) for k, v in parts.items()}


# --- the run ---------------------------------------------------------------------------------------


class DraftScore(BaseModel):
    draft: str
    fallback: bool = False
    semantic: float
    style: float
    style_parts: dict[str, float]
    decision: Decision
    agrees: bool


class PairResult(BaseModel):
    id: str
    real_decision: Decision
    twin: DraftScore
    baseline: DraftScore


class Summary(BaseModel):
    semantic: float
    style: float
    agreement: float
    fallbacks: int


class RepliesReport(BaseModel):
    pairs: int
    memory: str
    classifier: str = CLASSIFIER
    baseline_is: str = BASELINE
    skipped_without_original: int = 0
    twin: Summary
    baseline: Summary
    results: list[PairResult]

    def rows(self) -> list[tuple[str, str, str]]:
        """(metric, twin, baseline) as printed."""
        t, b = self.twin, self.baseline
        return [
            ("semantic similarity (higher is better)", f"{t.semantic:.3f}", f"{b.semantic:.3f}"),
            ("style distance (lower is better)", f"{t.style:.3f}", f"{b.style:.3f}"),
            ("decision agreement", f"{t.agreement:.0%}", f"{b.agreement:.0%}"),
            ("holding replies (drafts failed checks)", str(t.fallbacks), str(b.fallbacks)),
        ]


Progress = Callable[[int, int, PairResult], None]


def run_replies(twin: App, base: App, pairs: list[Pair], *, memory: str, out: Path | None = None,
                progress: Progress | None = None, skipped: int = 0) -> RepliesReport:
    """Draft every pair with `twin` and `base`, score both against the real reply, write `out` files."""
    if not pairs:
        raise NotReady("no reply pairs to evaluate")
    results = []
    for pair in pairs:
        results.append(_run_pair(twin, base, pair))
        if progress is not None:
            progress(len(results), len(pairs), results[-1])
    report = RepliesReport(pairs=len(results), memory=memory, skipped_without_original=skipped,
                           twin=_summary([r.twin for r in results]), baseline=_summary([r.baseline for r in results]),
                           results=results)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        with (out / "drafts.jsonl").open("w", encoding="utf-8") as handle:
            for r in results:
                handle.write(json.dumps({"id": r.id, "draft": r.twin.draft}) + "\n")
        (out / "report.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    return report


def _run_pair(twin: App, base: App, pair: Pair) -> PairResult:
    mail = pair.mail()
    principal = sender_principal(twin.profile, mail)
    drafts = [draft_reply(app, mail, principal) for app in (twin, base)]
    real, *vectors = np.asarray(twin.embedder.embed([pair.reply.body, *(d.body for d in drafts)]))
    real_decision = decision_of(pair.reply.body)
    scores = []
    for draft, vector in zip(drafts, vectors):
        style, parts = style_distance(pair.reply.body, draft.body)
        decision = decision_of(draft.body)
        scores.append(DraftScore(draft=draft.body, fallback=draft.fallback, semantic=round(float(real @ vector), 4),
                                 style=round(style, 4), style_parts=parts, decision=decision,
                                 agrees=decision == real_decision))
    return PairResult(id=pair.id, real_decision=real_decision, twin=scores[0], baseline=scores[1])


def _summary(scores: list[DraftScore]) -> Summary:
    return Summary(
        semantic=round(float(np.mean([s.semantic for s in scores])), 4),
        style=round(float(np.mean([s.style for s in scores])), 4),
        agreement=round(sum(s.agrees for s in scores) / len(scores), 4),
        fallbacks=sum(s.fallback for s in scores),
    )

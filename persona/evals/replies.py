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
- decision agreement: both texts classified by the same rules into unsubscribe / forward (redirect to
  someone) / reschedule / decline / accept / thank / inform / other (`decision_of`); rules, not the LLM,
  so the judge is not the model under test (and not the product's own decision step); a holding reply
  (the drafts failed the checks, the reply only promises an answer) is `hold`, which agrees with nothing;
- sign-off ok: the draft closes the way the owner usually does (one of their usual closings, or none
  when they mostly sign nothing); length ok: its word count lies within the 10th-90th percentile of the
  owner's replies. Both habits come from what the owner wrote before the split (`habits_of`).

`pairs_from_home` builds pairs from the owner's ingested mail after a date; `held_out` gives the
twin a view of the same home whose memory (a `date_epoch` filter in every search) and style card
only know what came before that date.
"""

from __future__ import annotations

import json
import mailbox
import re
from collections import Counter
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
from persona.channels.email.mailparse import parse_mail
from persona.errors import ConfigError, NotReady
from persona.memory.style import body_of, compute_style_card, signoff_of, style_features
from persona.profile import Audience, Owner, Profile
from persona.skills.draft_reply import draft_reply

if TYPE_CHECKING:
    from persona.memory.store import Hit, MemoryStore
    from persona.memory.style import StyleCard

Decision = Literal[
    "unsubscribe", "forward", "reschedule", "decline", "accept", "thank", "inform", "other", "hold"
]
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
            key=self.id,
            message_id=f"<{self.id}@replies-eval.invalid>",
            from_addr=address.lower(),
            from_name=name,
            to=[parseaddr(self.incoming.to)[1]],
            subject=self.incoming.subject,
            body=self.incoming.body,
            fresh=self.incoming.body,
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
    it answers: the quote inside the reply's source when it has one, else the original ingest found.
    The same reply filed in several folders (sent, all documents) is one pair."""
    owner = app.profile.owner
    pairs, skipped, seen = [], 0, set()
    for text, meta in _stored_exemplars(app.memory, {"date_epoch": {"$gte": int(split.timestamp())}}):
        reply = own_text(text)
        if (str(meta.get("date", "")), reply) in seen or not reply:
            continue
        seen.add((str(meta.get("date", "")), reply))
        author, original = _quoted_original(str(meta.get("source", "")))
        if not original:
            author, original = str(meta.get("incoming_author", "")), str(meta.get("incoming_text", ""))
        if not original.strip():
            skipped += 1
            continue
        sender = author or str(meta.get("recipients", "")).split(",")[0].strip()
        pairs.append(
            Pair(
                id=str(meta.get("doc_id") or len(pairs)),
                incoming=IncomingSide(
                    from_=sender,
                    to=owner.emails[0],
                    subject=_unreplied(str(meta.get("subject", ""))),
                    body=original,
                ),
                reply=ReplySide(body=reply, date=meta.get("date", "")),
            )
        )
    pairs.sort(key=lambda p: str(getattr(p.reply, "date", "")))
    return pairs, skipped


def _stored_exemplars(store: MemoryStore, where: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Mail exemplars matching `where`, with metadata. MemoryStore has no public listing with metadata
    yet (wanted: `MemoryStore.items(kind, where)`); until then this is the one place that reads its
    collection directly."""
    got = store._collection.get(
        where={"$and": [{"kind": "exemplar"}, {"doc_kind": "mail"}, where]},
        include=["documents", "metadatas"],
    )
    return list(zip(got["documents"] or [], [dict(m) for m in got["metadatas"] or []]))


# where quoted history starts when the mail parser left it in: a Lotus Notes header ("Name <a@b> on
# 03/19/2001 09:39:59 AM", or the name on one line and the date on the next), a "From: ..." line,
# "Please respond to", an Original Message or "Forwarded by" rule
_DATETIME = r"\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AP]M)?"
_HISTORY = re.compile(
    rf"^[ \t]*(?:.{{2,160}}?\s+on\s+{_DATETIME}|from:\s.*|please respond to\b.*"
    r"|-{3,}.*(?:original message|forwarded by).*)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_NAME_THEN_DATE = re.compile(rf"^[ \t]*[^\n]{{2,80}}\n[ \t]*{_DATETIME}[ \t]*$", re.IGNORECASE | re.MULTILINE)


def own_text(text: str) -> str:
    """What the writer wrote themselves: `text` up to the first line where quoted history begins."""
    starts = [m.start() for m in (_HISTORY.search(text), _NAME_THEN_DATE.search(text)) if m]
    return (text[: min(starts)] if starts else text).strip()


def source_bytes(source: str) -> bytes | None:
    """The raw message an item came from ("file", or "folder#key" / "file#key" for mailboxes)."""
    path, _, key = source.partition("#")
    try:
        if key and Path(path).is_dir():
            return mailbox.Maildir(path, create=False).get_bytes(key)
        if key:
            box = mailbox.mbox(path, create=False)
            try:
                return box.get_bytes(int(key))
            finally:
                box.close()  # an mbox keeps its file open until closed
        return Path(path).read_bytes()
    except (OSError, KeyError, ValueError):
        return None


def _quoted_original(source: str) -> tuple[str, str]:
    """(author, text) of the message quoted in the stored reply at `source`, or ("", "") when the file is
    gone or quotes nothing. Ingest keeps only the fresh text of a reply; the mail parser reads the quote
    ("-----Original Message-----" blocks, Lotus Notes "Name on date" + To/cc/Subject blocks, "wrote:" and
    `>` quoting)."""
    data = source_bytes(source)
    quoted = parse_mail(data).quoted if data else None
    if quoted is None:
        return "", ""
    return quoted.author.lower() if "@" in quoted.author else quoted.author, quoted.text


def _unreplied(subject: str) -> str:
    return re.sub(r"^(re|aw|sv):\s*", "", subject, flags=re.IGNORECASE)


# --- the apps that draft ---------------------------------------------------------------------------


class DatedMemory:
    """A read-only view of a MemoryStore in which only items dated before `until` exist (undated ones,
    epoch 0, too): every search gets a `date_epoch` clause, the store itself is not copied."""

    def __init__(self, store: MemoryStore, until: datetime) -> None:
        self.store = store
        self.until = int(until.timestamp())

    def search(
        self,
        query: str,
        audiences: Collection[Audience],
        k: int = 5,
        kind: Any = None,
        where: dict[str, Any] | None = None,
    ) -> list[Hit]:
        window: dict[str, Any] = {"date_epoch": {"$lt": self.until}}
        return self.store.search(
            query, audiences, k=k, kind=kind, where={"$and": [where, window]} if where else window
        )

    def exemplars(
        self, query: str, audiences: Collection[Audience], k: int = 3, where: dict[str, Any] | None = None
    ) -> list[Hit]:
        return self.search(query, audiences, k=k, kind="exemplar", where=where)

    def exemplar_texts(self, doc_kind: str = "mail") -> list[str]:
        return [
            text
            for text, _ in _stored_exemplars(
                self.store, {"$and": [{"doc_kind": doc_kind}, {"date_epoch": {"$lt": self.until}}]}
            )
        ]


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
        raise NotReady(
            f"no mail written by the owner before {split:%Y-%m-%d} in memory; pick a later --split"
        )
    return _ScopedApp(app, app.profile, memory, compute_style_card(texts, app.profile.owner.name))


def baseline(app: App) -> App:
    """The same LLM and drafting path with no persona (the owner's name and address only) and no memory."""
    owner = app.profile.owner
    return _ScopedApp(app, Profile(owner=Owner(name=owner.name, emails=owner.emails)), _NoMemory(), None)


# --- scores ----------------------------------------------------------------------------------------

_DECISION_RULES: list[tuple[Decision, re.Pattern[str]]] = [  # first match wins: most specific intent first
    (
        "unsubscribe",
        re.compile(
            r"\b(remov(?:e|ed|ing)\b.{0,60}\b(?:list|distribution|mailings?|database)|(?:take|drop) (?:me|us|\w+(?: \w+)?) off\b"
            r"|unsubscribe|(?:stop|no longer) (?:send|e-?mail|mail)ing)",
            re.IGNORECASE | re.DOTALL,
        ),
    ),
    (
        "forward",
        re.compile(
            r"\b(loop(?:ing)? in|cc(?:'?ing|'d)|(?<!look )(?<!looks )(?<!looking )forward(?:ing|ed)?|(?:please|you (?:should|may|might|could|can)) (?:talk|speak|reach out)"
            r" to|(?:send|forward|direct|address) (?:it|this|them|your \w+) to"
            r"|ask \w+ (?:about|for|to)"
            r"|best person|hand(?:ing)? (?:this|it) (?:over|to)|over to \w+|pass(?:ed|ing)? (?:this|it|the \w+|your \w+) "
            r"(?:on|along)|(?:please |you (?:may|might|should|could) )(?:contact|call|get in touch with)|refer(?:red)? "
            r"(?:this|it|you|your \w+) to|(?:is|will be) handling (?:this|it)|will you please (?:do|handle|take care of) (?:it|this))\b",
            re.IGNORECASE,
        ),
    ),
    (
        "reschedule",
        re.compile(
            r"\b(reschedul\w*|postpon\w*|move (?:it|this|our|the)\b|push (?:it|this|back)|another (?:day|time|slot|date)"
            r"|(?:how|what) about (?:mon|tue|wed|thu|fri|next|tomorrow)\w*|can we do \w+ instead|instead\?"
            r"|a (?:later|different) date|(?:would|will|is) only be available|only (?:be )?available (?:on|at|in)"
            r"|(?:best|first|earliest) (?:date|day|time) (?:is|would be))",
            re.IGNORECASE,
        ),
    ),
    (
        "decline",
        re.compile(
            r"((?:^|[.!?]\s+)no\b[,.!]|\bnot (?:this time|able|going to)\b|\bcan(?:no|')t (?:make|do|join|commit|approve|take"
            r"|attend|participate|accept|be there)|\b(?:won'?t|will not|would not|wouldn'?t) (?:be able|make|approve|work|attend"
            r"|participate|be (?:attending|participating|available|in town|there|here))|\b(?:have|need|must) to (?:decline|pass|say no)"
            r"|\bdecline\b|\bregrets?\b|\bnot interested\b|\bno interest\b|\bnot (?:be )?(?:attending|participating|good for)|\b(?:do(?:es)?n'?t|do(?:es)? not) work for\b|\bI'?ll pass\b|\bunable to\b|\bisn'?t going to work|\bnot (?:be )?available"
            r"|\b(?:schedule|calendar) (?:will not|won't|does not|doesn't) (?:allow|permit)|\bconflict\b"
            r"|\bwill be (?:out of (?:town|the (?:office|city|country))|away|traveling|travelling|on (?:vacation|holiday)))",
            re.IGNORECASE | re.MULTILINE,
        ),
    ),
    (
        "accept",
        re.compile(
            r"\b(yes|(?<!make )(?<!not )sure|sounds good|works for me|(?:that|this|\w+day) works|happy to|approved?"
            r"|go ahead|agreed|count me in|looks good|lgtm|fine by me|confirmed?|I'?ll (?:be there|join|do it|own it|take it)"
            r"|(?:plans? to|would (?:be )?(?:love|glad|delighted|pleased) to) (?:attend|participate|join|be there|speak)"
            r"|(?:pleased|delighted|glad|willing) to (?:accept|attend|join|participate|go|meet|do)|accepts?\b"
            r"|see you (?:there|then)|will (?:be (?:there|here|on (?:the|this) call|attending|participating)|attend|work)"
            r"|(?:it'?s|it is|that'?s|that is|this is|will be|would be|is) (?:fine|ok(?:ay)?|o\.k\.)|fine to (?:proceed|go ahead)"
            r"|plan(?:s|ning)? (?:on|to) (?:attend|attending|participat\w+|be there|join\w*|do (?:it|this))|absolutely"
            r"|will approve|(?:does|do) plan to|will be able to (?:do|attend|make|join|be there|participate|speak|meet))\b",
            re.IGNORECASE,
        ),
    ),
    (
        "thank",
        re.compile(
            r"\b(thanks?|thank you|appreciate|grateful|congratulations|got it|came through"
            r"|will (?:let|tell) (?:him|her|\w+) know|(?:I'?ll|will) pass (?:it|this) on|(?<!not )(?:did|have|we) receive[d]?"
            r"|(?:was|were) able to open|it'?s done|(?:this|it) worked)\b",
            re.IGNORECASE,
        ),
    ),
]
_THANK_WORDS = 40  # a reply longer than this that only also thanks is telling something


def decision_of(text: str) -> Decision:
    """What a reply decides, by rules (quoted history and a closing like "Thanks, Dana" are not read);
    a short reply that only thanks is `thank`; one deciding nothing is `inform` if it states something."""
    body = re.sub(r"(?<=\S)[ \t]*\n(?=\S)", " ", body_of(own_text(text), ""))  # wrapped lines joined
    for decision, pattern in _DECISION_RULES:
        if pattern.search(body) and (decision != "thank" or len(body.split()) <= _THANK_WORDS):
            return decision
    statements = [
        s for s in re.split(r"(?<=[.!?])\s+|\n+", body) if len(s.split()) >= 5 and not s.strip().endswith("?")
    ]
    return "inform" if statements else "other"


class Habits(BaseModel):
    """How the owner closes and how long they write, from their own replies (before the split)."""

    signs: bool  # most of their replies end with a closing
    closings: list[str]  # the final lines of their usual closings ("rosie", "thanks, dana"), lowercased
    words_p10: int
    words_p90: int

    def signoff_ok(self, draft: str) -> bool:
        closing = _last_closing_line(draft)
        return closing in self.closings if self.signs else not closing

    def length_ok(self, draft: str) -> bool:
        return self.words_p10 <= len(draft.split()) <= self.words_p90


def habits_of(replies: list[str]) -> Habits:
    """The owner's sign-off and length habits; a closing counts as usual when 10% of replies use it."""
    texts = [t for t in (own_text(r) for r in replies) if t]
    if not texts:
        raise NotReady("no replies by the owner to learn their sign-off and length from")
    closings = Counter(c for c in map(_last_closing_line, texts) if c)
    lengths = sorted(len(t.split()) for t in texts)
    return Habits(
        signs=sum(closings.values()) * 2 > len(texts),
        closings=[c for c, n in closings.most_common() if n * 10 >= len(texts)]
        or [c for c, _ in closings.most_common(1)],
        words_p10=lengths[int(0.1 * (len(lengths) - 1))],
        words_p90=lengths[round(0.9 * (len(lengths) - 1))],
    )


def _last_closing_line(text: str) -> str:
    closing = signoff_of(own_text(text))
    lines = [line for line in own_text(text).splitlines() if line.strip()]
    return lines[-1].strip(" -—–~.,!").lower() if closing and lines else ""


def style_distance(real: str, draft: str) -> tuple[float, dict[str, float]]:
    """(mean distance, its five parts), each in [0, 1]; 0 means the same measurable habits."""
    a, b = style_features(real), style_features(draft)
    longer = max(a["words"], b["words"]) or 1.0
    parts = {
        "length": abs(a["words"] - b["words"]) / longer,
        "greeting": abs(a["greeting"] - b["greeting"]),
        "signoff": abs(a["signoff"] - b["signoff"]),
        "punctuation": (
            abs(a["exclamation_rate"] - b["exclamation_rate"]) + abs(a["question_rate"] - b["question_rate"])
        )
        / 2,
        "formality": min(
            1.0,
            (
                min(1.0, 10 * abs(a["contraction_rate"] - b["contraction_rate"]))
                + abs(a["lowercase_start_rate"] - b["lowercase_start_rate"])
                + abs(a["emoji"] - b["emoji"])
            )
            / 3,
        ),
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
    signoff_ok: bool = False
    length_ok: bool = False


class PairResult(BaseModel):
    id: str
    real_decision: Decision
    twin: DraftScore
    baseline: DraftScore


class Summary(BaseModel):
    semantic: float
    style: float
    agreement: float
    signoff_ok: float = 0.0
    length_ok: float = 0.0
    fallbacks: int


class RepliesReport(BaseModel):
    pairs: int
    memory: str
    classifier: str = CLASSIFIER
    baseline_is: str = BASELINE
    skipped_without_original: int = 0
    habits: Habits | None = None
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
            ("sign-off as the owner's", f"{t.signoff_ok:.0%}", f"{b.signoff_ok:.0%}"),
            ("length within the owner's range", f"{t.length_ok:.0%}", f"{b.length_ok:.0%}"),
            ("drafts that failed the checks (reply written by rule)", str(t.fallbacks), str(b.fallbacks)),
        ]


Progress = Callable[[int, int, PairResult], None]


def run_replies(
    twin: App,
    base: App,
    pairs: list[Pair],
    *,
    memory: str,
    out: Path | None = None,
    progress: Progress | None = None,
    skipped: int = 0,
) -> RepliesReport:
    """Draft every pair with `twin` and `base`, score both against the real reply, write `out` files.
    The owner's habits come from the replies in the twin's memory, else from the pairs' own replies."""
    if not pairs:
        raise NotReady("no reply pairs to evaluate")
    habits = habits_of(twin.memory.exemplar_texts("mail") or [p.reply.body for p in pairs])
    results = []
    for pair in pairs:
        results.append(_run_pair(twin, base, pair, habits))
        if progress is not None:
            progress(len(results), len(pairs), results[-1])
    report = RepliesReport(
        pairs=len(results),
        memory=memory,
        skipped_without_original=skipped,
        habits=habits,
        twin=_summary([r.twin for r in results]),
        baseline=_summary([r.baseline for r in results]),
        results=results,
    )
    if out is not None:
        real = {p.id: p.reply.body for p in pairs}
        out.mkdir(parents=True, exist_ok=True)
        with (out / "drafts.jsonl").open("w", encoding="utf-8") as handle:
            for r in results:
                handle.write(
                    json.dumps(
                        {"id": r.id, "draft": r.twin.draft, "baseline": r.baseline.draft, "real": real[r.id]}
                    )
                    + "\n"
                )
        (out / "report.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    return report


def _run_pair(twin: App, base: App, pair: Pair, habits: Habits) -> PairResult:
    mail = pair.mail()
    replied = _replied_at(pair)
    if replied is not None:  # both draft as on the day the owner replied: "now" and free time are that day's
        mail = mail.model_copy(update={"date": replied})
        twin.clock = base.clock = lambda: replied
    principal = sender_principal(twin.profile, mail)
    drafts = [draft_reply(app, mail, principal) for app in (twin, base)]
    real, *vectors = np.asarray(twin.embedder.embed([pair.reply.body, *(d.body for d in drafts)]))
    real_decision = decision_of(pair.reply.body)
    scores = []
    for draft, vector in zip(drafts, vectors):
        style, parts = style_distance(pair.reply.body, draft.body)
        # a holding reply decides nothing, whatever its words read as ("Thanks for your message…")
        decision: Decision = "hold" if draft.holding else decision_of(draft.body)
        scores.append(
            DraftScore(
                draft=draft.body,
                fallback=draft.fallback,
                semantic=round(float(real @ vector), 4),
                style=round(style, 4),
                style_parts=parts,
                decision=decision,
                agrees=decision == real_decision,
                signoff_ok=habits.signoff_ok(draft.body),
                length_ok=habits.length_ok(draft.body),
            )
        )
    return PairResult(id=pair.id, real_decision=real_decision, twin=scores[0], baseline=scores[1])


def _replied_at(pair: Pair) -> datetime | None:
    try:
        return datetime.fromisoformat(str(getattr(pair.reply, "date", "") or ""))
    except ValueError:
        return None


def _summary(scores: list[DraftScore]) -> Summary:
    return Summary(
        semantic=round(float(np.mean([s.semantic for s in scores])), 4),
        style=round(float(np.mean([s.style for s in scores])), 4),
        agreement=round(sum(s.agrees for s in scores) / len(scores), 4),
        signoff_ok=round(sum(s.signoff_ok for s in scores) / len(scores), 4),
        length_ok=round(sum(s.length_ok for s in scores) / len(scores), 4),
        fallbacks=sum(s.fallback for s in scores),
    )

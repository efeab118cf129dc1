"""Triage eval: label accuracy and a confusion matrix over a JSON set of emails, plus reply coverage.

Dataset shape: {"owner": "Name <addr>", "emails": [{"id", "email": {"author", "to", "subject",
"email_thread"}, "triage": "ignore|notify|respond", "response_criteria": "• ...\\n• ..."}]}.

It runs in a throwaway home whose profile is the dataset's owner with no rules and no corrections,
so it measures the model path, not the owner's configuration. For mails whose expected label is
`respond` a reply is drafted and checked against the response criteria with a keyword check: a
criterion counts as covered when at least half of its content words (tool names and filler dropped,
compared on 4-letter stems) occur in the reply. Crude, but deterministic and honest about what it is.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from persona.channels.email.base import IncomingMail
from persona.channels.email.channel import sender_principal
from persona.errors import ConfigError, LLMUnavailable
from persona.home import Home
from persona.profile import Owner, Profile, save_profile
from persona.skills.draft_reply import draft_reply
from persona.skills.triage import Label, triage

if TYPE_CHECKING:
    from persona.app import App

# Filler and tool vocabulary of response criteria: not evidence that a reply covers anything.
_STOP = frozenset(
    {
        "a",
        "an",
        "and",
        "the",
        "to",
        "of",
        "for",
        "in",
        "on",
        "at",
        "by",
        "with",
        "or",
        "is",
        "are",
        "be",
        "it",
        "this",
        "that",
        "as",
        "from",
        "your",
        "you",
        "their",
        "any",
        "all",
        "about",
        "email",
        "emails",
        "send",
        "sent",
        "write",
        "written",
        "tool",
        "call",
        "calls",
        "using",
        "use",
        "via",
        "done",
        "ensure",
        "response",
        "respond",
        "reply",
        "user",
        "check",
        "calendar",
        "schedule",
        "meeting",
        "explicitly",
        "specific",
        "specifically",
        "mention",
        "mentions",
    }
)


class CaseResult(BaseModel):
    id: str
    expected: Label
    predicted: Label | None  # None: the model failed on this case (see `error`)
    reason: str = ""
    cold_outreach: bool = False  # triage read it as a stranger's pitch: shown to the owner, no time offered
    error: str = ""
    criteria: list[str] = []
    covered: list[bool] = []
    reply: str = ""


class TriageReport(BaseModel):
    results: list[CaseResult]

    @property
    def answered(self) -> list[CaseResult]:
        return [r for r in self.results if r.predicted is not None]

    @property
    def accuracy(self) -> float:
        """Correct labels over answered cases; failed cases are reported apart, not hidden in the score."""
        answered = self.answered
        return sum(r.expected == r.predicted for r in answered) / len(answered) if answered else 0.0

    def confusion(self) -> dict[Label, dict[Label, int]]:
        """expected label -> predicted label -> count."""
        matrix = {e: dict.fromkeys(Label, 0) for e in Label}
        for r in self.answered:
            matrix[r.expected][r.predicted] += 1
        return matrix

    @property
    def coverage(self) -> float:
        """Share of response criteria the drafted replies cover (respond cases only)."""
        flags = [c for r in self.results for c in r.covered]
        return sum(flags) / len(flags) if flags else 0.0


def load_cases(path: Path) -> tuple[str, list[dict]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data["owner"], data["emails"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: not a triage eval set ({exc.__class__.__name__}: {exc})") from None


def run_triage_eval(
    app: App, path: Path, progress: Callable[[CaseResult], None] | None = None
) -> TriageReport:
    """Triage (and for `respond` cases, draft) every email in `path` with `app`'s model."""
    from persona.app import App

    owner, cases = load_cases(path)
    name, address = parseaddr(owner)
    with tempfile.TemporaryDirectory(prefix="persona-eval-") as tmp:
        home = Home(Path(tmp)).ensure()
        save_profile(Profile(owner=Owner(name=name or "Owner", emails=[address])), home.profile_path)
        scratch = App(home, app.settings, llm=app.llm, clock=app.clock)
        scratch.__dict__["memory"] = _NoMemory()  # the dataset's owner has no memory here
        results = []
        for case in cases:
            result = _run_case(scratch, case)
            results.append(result)
            if progress is not None:
                progress(result)
    return TriageReport(results=results)


class _NoMemory:
    def search(self, *_args: object, **_kwargs: object) -> list:
        return []


def _run_case(app: App, case: dict) -> CaseResult:
    mail = case_mail(case)
    principal = sender_principal(app.profile, mail)
    expected = Label(case["triage"])
    try:
        decided = triage(app, mail, principal)
    except LLMUnavailable as exc:
        return CaseResult(id=case["id"], expected=expected, predicted=None, error=str(exc))
    result = CaseResult(
        id=case["id"],
        expected=expected,
        predicted=decided.label,
        reason=decided.reason,
        cold_outreach=decided.cold_outreach,
    )
    if expected is Label.RESPOND:
        try:
            reply = draft_reply(app, mail, principal).body
        except LLMUnavailable as exc:
            return result.model_copy(update={"error": f"drafting: {exc}"})
        criteria = [c for c in criteria_of(case.get("response_criteria", "")) if _stems(c)]
        result = result.model_copy(
            update={"reply": reply, "criteria": criteria, "covered": [covers(reply, c) for c in criteria]}
        )
    return result


def case_mail(case: dict) -> IncomingMail:
    email = case["email"]
    name, address = parseaddr(email.get("author", ""))
    return IncomingMail(
        key=case["id"],
        message_id=f"<{case['id']}@eval.invalid>",
        from_addr=address.lower(),
        from_name=name,
        to=[parseaddr(email.get("to", ""))[1]],
        subject=email.get("subject", ""),
        body=email.get("email_thread", ""),
        fresh=email.get("email_thread", ""),
    )


def criteria_of(text: str) -> list[str]:
    return [line.strip(" •-*\t") for line in text.splitlines() if line.strip(" •-*\t")]


def _stems(text: str) -> set[str]:
    words = re.findall(r"[a-z][a-z0-9']+", text.lower().replace("_", " "))
    return {w[:4] for w in words if w not in _STOP and len(w) > 2}


def covers(reply: str, criterion: str) -> bool:
    wanted = _stems(criterion)
    return len(wanted & _stems(reply)) * 2 >= len(wanted)

"""Any person's mailbox as an eval subject: a fresh home built from it, and whether triage agrees with
what the person did.

`mailbox_home` writes a profile from the owner's addresses and the name their sent mail shows (the From
display name, else an `X-From` header as in the Enron files, else the address: "rosalee.fleming" ->
"Rosalee Fleming"), then ingests the folder the way `persona ingest` does.

`triage_cases` takes incoming mail after the split: mail the person answered (the originals of the held-out
reply pairs) and mail they left unanswered (in the mailbox, from someone else, dated while they were still
writing, with no reply of theirs: no In-Reply-To/References to it, no "Re:" of its subject to its sender).
`run_triage_agreement` asks `triage()` about each: agreement is "respond" for answered mail, anything
else for the rest.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from email.parser import BytesHeaderParser
from pathlib import Path

from pydantic import BaseModel

from persona.app import App
from persona.channels.email.base import IncomingMail, RawMail
from persona.channels.email.channel import read_mail, sender_principal
from persona.channels.email.mailparse import topic
from persona.evals.replies import Pair, source_bytes
from persona.home import Home
from persona.memory.ingest import IngestSummary, ingest
from persona.memory.loaders import Document, iter_documents
from persona.profile import Audience, Owner, Profile, save_profile
from persona.settings import Settings
from persona.skills.triage import Label, triage

# --- the home ---------------------------------------------------------------------------------------


def owner_name(docs: list[Document], owners: list[str]) -> str:
    """The name the owner's sent mail shows, in "First Last" order."""
    addresses = {a.lower() for a in owners}
    mine = [d for d in docs if d.kind == "mail" and d.author.lower() in addresses]
    names = Counter(_plain_name(str(d.meta.get("from_name", ""))) for d in mine)
    names.update(_plain_name(_x_from(d.source)) for d in mine[:20] if not d.meta.get("from_name"))
    names.pop("", None)
    if names:
        return names.most_common(1)[0][0]
    local = owners[0].partition("@")[0]
    return " ".join(part.capitalize() for part in re.split(r"[._\-]+", local) if part.isalpha()) or local


def _x_from(source: str) -> str:
    data = source_bytes(source)
    return str(BytesHeaderParser().parsebytes(data).get("X-From", "")) if data else ""


def _plain_name(raw: str) -> str:
    """ "Fleming, Rosalee" / "Rosalee Fleming/HOU/ECT" / "'Rosalee Fleming'" -> "Rosalee Fleming"; an
    address or something that is no name -> ""."""
    name = raw.split("<")[0].split("/")[0].strip(" \"'")
    if "," in name:
        last, _, first = name.partition(",")
        name = f"{first.strip()} {last.strip()}"
    return name if name and "@" not in name and re.fullmatch(r"[A-Za-z][A-Za-z.'\- ]{1,60}", name) else ""


def mailbox_home(
    mailbox: Path, owners: list[str], root: Path, settings: Settings, progress: bool = False
) -> tuple[App, IngestSummary, list[Document]]:
    """A home at `root` whose profile is the mailbox's owner and whose memory is the whole mailbox.
    Also returns the mailbox's documents, read once here for the name and reused for triage cases."""
    if not mailbox.is_dir():
        raise FileNotFoundError(f"{mailbox}: no such mailbox folder")
    docs = [d for d in iter_documents(mailbox) if isinstance(d, Document)]
    home = Home(root).ensure()
    profile = Profile(owner=Owner(name=owner_name(docs, owners), emails=owners))
    save_profile(profile, home.profile_path)
    app = App(home, settings)
    summary = ingest(
        [mailbox], store=app.memory, profile=app.profile, audience=Audience.TEAM, progress=progress
    )
    return app, summary, docs


# --- triage agreement -------------------------------------------------------------------------------


class TriageCase(BaseModel):
    id: str
    sender: str
    subject: str
    replied: bool
    label: Label | None = None
    reason: str = ""

    @property
    def agrees(self) -> bool:
        return (self.label is Label.RESPOND) == self.replied


class TriageAgreement(BaseModel):
    cases: list[TriageCase]

    @property
    def agreement(self) -> float:
        return sum(c.agrees for c in self.cases) / len(self.cases) if self.cases else 0.0

    def of(self, replied: bool) -> tuple[int, int]:
        """(agreeing, all) among the mails the person did (or did not) answer."""
        group = [c for c in self.cases if c.replied == replied]
        return sum(c.agrees for c in group), len(group)


_SENT_FOLDER = re.compile(r"^[._]*sent", re.IGNORECASE)  # sent, _sent_mail, sent_items, .Sent: outgoing mail


def _in_sent_folder(doc: Document) -> bool:
    return any(_SENT_FOLDER.match(part) for part in Path(doc.source.split("#", 1)[0]).parts)


def unanswered(docs: list[Document], owners: list[str], split: datetime) -> list[Document]:
    """Mail from others dated from `split` until the owner's last sent mail that no reply of theirs answers,
    one per message (the same mail filed in several folders counts once), oldest first. Mail in a sent
    folder is outgoing, whoever wrote it (an assistant sharing the mailbox), so it is left out."""
    addresses = {a.lower() for a in owners}
    sent = [d for d in docs if d.kind == "mail" and d.author.lower() in addresses and d.date]
    if not sent:
        return []
    last = max(d.date for d in sent if d.date)
    answered_ids = {
        str(i) for d in sent for i in (d.meta.get("in_reply_to"), *d.meta.get("references", [])) if i
    }
    answered_topics = {
        (topic(d.subject), r.lower())
        for d in sent
        if topic(d.subject) != d.subject.strip().lower()
        for r in d.recipients
    }
    found: dict[str, Document] = {}
    for d in docs:
        if (
            d.kind != "mail"
            or not d.date
            or not split <= d.date <= last
            or d.author.lower() in addresses
            or not d.author
            or not d.text.strip()
            or _in_sent_folder(d)
        ):
            continue
        message_id = str(d.meta.get("message_id", ""))
        if message_id in answered_ids or (topic(d.subject), d.author.lower()) in answered_topics:
            continue
        found.setdefault(message_id or d.id, d)
    return sorted(found.values(), key=lambda d: d.date or split)


def _spread(items: list, n: int) -> list:
    """`n` items spread evenly over `items` (all of them when there are fewer)."""
    if len(items) <= n:
        return items
    return [items[i * len(items) // n] for i in range(n)]


def triage_cases(
    pairs: list[Pair], unreplied: list[Document], limit: int
) -> list[tuple[TriageCase, IncomingMail]]:
    """Up to `limit` answered mails (the pairs' originals) and as many unanswered ones, spread over time."""
    cases = [
        (TriageCase(id=p.id, sender=p.incoming.from_, subject=p.incoming.subject, replied=True), p.mail())
        for p in pairs[:limit]
    ]
    for doc in _spread(unreplied, limit):
        data = source_bytes(doc.source)
        if data is None:
            continue
        mail = read_mail(RawMail(key=doc.source, data=data))
        cases.append((TriageCase(id=doc.source, sender=doc.author, subject=doc.subject, replied=False), mail))
    return cases


def run_triage_agreement(
    app: App, cases: list[tuple[TriageCase, IncomingMail]], progress: Callable[[int, int], None] | None = None
) -> TriageAgreement:
    """`triage()` on each mail, as the twin (held out at the split) would have seen it."""
    done = []
    for case, mail in cases:
        result = triage(app, mail, sender_principal(app.profile, mail))
        done.append(case.model_copy(update={"label": result.label, "reason": result.reason}))
        if progress is not None:
            progress(len(done), len(cases))
    return TriageAgreement(cases=done)

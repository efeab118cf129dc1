"""Rich renderings shared by several commands."""

from __future__ import annotations

from collections import Counter

from rich.table import Table

from persona.agent.inbox import InboxReport
from persona.events import Verdict
from persona.memory.ingest import IngestSummary
from persona.skills.turn import Done
from persona.store import Approval, MessageForOwner


def ingest_table(summary: IngestSummary) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_row("files read", str(summary.files))
    table.add_row("messages and notes", str(summary.documents))
    table.add_row("written by the owner", str(summary.owner_written))
    table.add_row("chunks added", f"[bold]{summary.chunks_added}[/]")
    table.add_row("already in memory", str(summary.chunks_present))
    reasons = Counter(s.reason for s in summary.skipped)
    table.add_row("skipped", ", ".join(f"{n}× {r}" for r, n in reasons.most_common()) or "0")
    if summary.style_card is not None:
        table.add_row("style card", f"updated from {summary.style_card.samples} messages")
    return table


def inbox_table(report: InboxReport) -> Table:
    table = Table("message", "from", "subject", "triage", "why", "done")
    for o in report.outcomes:
        table.add_row(o.message_id, o.sender, o.subject, o.label, o.reason, o.did)
    return table


def approvals_table(items: list[Approval]) -> Table:
    table = Table("id", "status", "action", "to", "why it waits", "summary")
    for a in items:
        table.add_row(a.id[:8], a.status, a.action.kind.value, ", ".join(a.action.targets), a.reason, a.action.summary)
    return table


def actions_lines(actions: list[Done]) -> list[str]:
    """What a turn did, under its reply: each action with the gate's verdict (and how to approve it)."""
    lines = []
    for a in actions:
        if a.kind.value == "save_draft":
            continue
        if a.verdict is Verdict.RUN:
            lines.append(f"[green]  ✓ done[/]  {a.kind.value}: {a.summary}")
        elif a.verdict is Verdict.APPROVE:
            lines.append(f"[yellow]  … waits for you[/]  {a.kind.value}: {a.summary}  "
                         f"([bold]persona approvals approve {a.id[:8]}[/])")
        else:
            lines.append(f"[red]  ✗ refused[/]  {a.kind.value}: {a.summary} ({a.reason})")
    return lines


def messages_table(items: list[MessageForOwner]) -> Table:
    table = Table("when (UTC)", "from", "via", "message", "")
    for m in items:
        table.add_row(m.at[:16].replace("T", " "), m.name or m.sender, m.channel, m.text, "" if m.read else "new")
    return table

"""Rich renderings shared by several commands.

Tables fit an 80-column terminal: ids, times and labels stay whole, text columns wrap, and the columns
a reader can do without (or see with `approvals show`) are left out unless the command gets --wide.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from persona.agent.inbox import InboxReport
from persona.events import Verdict
from persona.memory.ingest import IngestSummary
from persona.skills.turn import Done
from persona.store import Approval, MessageForOwner


@dataclass(frozen=True)
class Column:
    header: str
    wide_only: bool = False  # shown only with --wide
    whole: bool = False  # never wrapped: ids, times, labels; text columns wrap (long addresses fold)
    max_width: int | None = None  # leaves the room to a column that needs it more


def fitted_table(columns: Sequence[Column], rows: Iterable[Sequence[str]], wide: bool) -> Table:
    """Cells are plain text: a subject like "[/] urgent" is data, not Rich markup."""
    shown = [i for i, c in enumerate(columns) if wide or not c.wide_only]
    table = Table()
    for i in shown:
        table.add_column(
            columns[i].header, no_wrap=columns[i].whole, overflow="fold", max_width=columns[i].max_width
        )
    for row in rows:
        table.add_row(*(Text(row[i]) for i in shown))
    return table


def ingest_table(summary: IngestSummary) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_row("files read", str(summary.files))
    table.add_row("messages and notes", str(summary.documents))
    table.add_row("written by the owner", str(summary.owner_written))
    table.add_row("chunks added", f"[bold]{summary.chunks_added}[/]")
    table.add_row("already in memory", str(summary.chunks_present))
    reasons = Counter(s.reason for s in summary.skipped)
    table.add_row("skipped", Text(", ".join(f"{n}× {r}" for r, n in reasons.most_common()) or "0"))
    for skipped in summary.skipped[:_SKIPPED_SHOWN]:
        table.add_row("", Text(f"{skipped.source}: {skipped.reason}"))
    if len(summary.skipped) > _SKIPPED_SHOWN:
        table.add_row("", f"… and {len(summary.skipped) - _SKIPPED_SHOWN} more")
    if summary.style_card is not None:
        table.add_row("style card", f"updated from {summary.style_card.samples} messages")
    table.add_row("ingest run", f"{summary.run}  (`persona forget --run {summary.run}` takes it back)")
    return table


_SKIPPED_SHOWN = 5  # skipped files named one by one; the rest are counted by reason above


def inbox_table(report: InboxReport, wide: bool = False) -> Table:
    """Narrow, one cell says which mail it was, Message-ID included (`inbox correct` needs it, and the
    next run will not list this mail again); the triage's reason is --wide's."""
    if wide:
        columns = [
            Column("message"),
            Column("from"),
            Column("subject"),
            Column("triage", whole=True),
            Column("why"),
            Column("done"),
        ]
        rows = [[o.message_id, o.sender, o.subject, o.label, o.reason, o.did] for o in report.outcomes]
    else:
        columns = [Column("mail"), Column("triage", whole=True), Column("done", max_width=20)]
        rows = [[f"{o.subject}\n{o.sender}\n{o.message_id}", o.label, o.did] for o in report.outcomes]
    return fitted_table(columns, rows, wide)


def approvals_table(items: list[Approval], wide: bool = False) -> Table:
    """The summary names the targets; where they came from is `approvals show`'s, or --wide's."""
    columns = [
        Column("id", whole=True),
        Column("status", wide_only=all(a.status == "pending" for a in items)),
        Column("action", whole=True),
        Column("to", wide_only=True),
        Column("why it waits", wide_only=True),
        Column("summary"),
    ]
    rows = (
        [a.id[:8], a.status, a.action.kind.value, ", ".join(a.action.targets), a.reason, a.action.summary]
        for a in items
    )
    return fitted_table(columns, rows, wide)


def actions_lines(actions: list[Done]) -> list[str]:
    """What a turn did, under its reply: each action with the gate's verdict (and how to approve it)."""
    lines = []
    for a in actions:
        if a.kind.value == "save_draft":
            continue
        if a.verdict is Verdict.RUN:
            lines.append(f"[green]  ✓ done[/]  {a.kind.value}: {a.summary}")
        elif a.verdict is Verdict.APPROVE:
            lines.append(
                f"[yellow]  … waits for you[/]  {a.kind.value}: {a.summary}  "
                f"([bold]persona approvals approve {a.id[:8]}[/])"
            )
        else:
            lines.append(f"[red]  ✗ refused[/]  {a.kind.value}: {a.summary} ({a.reason})")
    return lines


def messages_table(items: list[MessageForOwner], wide: bool = False) -> Table:
    columns = [
        Column("when (UTC)", whole=True),
        Column("from"),
        Column("via", wide_only=True),
        Column("message"),
        Column("", whole=True),
    ]
    rows = (
        [m.at[:16].replace("T", " "), m.name or m.sender, m.channel, m.text, "" if m.read else "new"]
        for m in items
    )
    return fitted_table(columns, rows, wide)

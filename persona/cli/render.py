"""Rich renderings shared by several commands."""

from __future__ import annotations

from collections import Counter

from rich.table import Table

from persona.memory.ingest import IngestSummary


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

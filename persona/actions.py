"""The only road from a proposed Action to the outside world: policy, then run / queue / refuse.

Executors are plain callables registered per ActionKind by whoever owns the channel (email, calendar,
chat). Every decision and every execution is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from persona.approval_edits import check_edit
from persona.errors import ActionFailed, PersonaError
from persona.events import Action, ActionKind, Decision, Verdict
from persona.policy import decide
from persona.profile import Profile
from persona.store import Approval, ApprovalStatus, StateStore

Executor = Callable[[Action], str]


class Outcome(BaseModel):
    action_id: str
    decision: Decision
    receipt: str = ""  # what the executor reported, when it ran


class ActionGate:
    def __init__(self, store: StateStore, profile: Profile, executors: dict[ActionKind, Executor] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.store = store
        self.profile = profile
        self.clock = clock  # an edited meeting time must lie ahead
        self.executors: dict[ActionKind, Executor] = dict(executors or {})

    def register(self, kind: ActionKind, executor: Executor) -> None:
        self.executors[kind] = executor

    def submit(self, action: Action) -> Outcome:
        decision = decide(action, self.profile)
        self.store.audit(
            "decision",
            actor=action.requested_by.address or action.requested_by.role.value,
            subject=action.kind.value,
            detail={
                "action_id": action.id,
                "verdict": decision.verdict.value,
                "reason": decision.reason,
                "rule": decision.rule,
                "targets": action.targets,
                "target_provenance": [p.model_dump(mode="json") for p in action.target_provenance],
                "payload_provenance": [p.model_dump(mode="json") for p in action.payload_provenance],
                "summary": action.summary,
            },
        )
        if decision.verdict is Verdict.RUN:
            return Outcome(action_id=action.id, decision=decision, receipt=self._execute(action))
        if decision.verdict is Verdict.APPROVE:
            self.store.enqueue_approval(action, decision)
        return Outcome(action_id=action.id, decision=decision)

    def approve(self, approval_id: str, *, by: str, edited: dict[str, Any] | None = None) -> Approval:
        """Carry out a pending action, with the owner's edits (checked first: a bad one leaves it pending)."""
        approval = self.store.get_approval(approval_id)
        merged = {**(approval.edited or {}), **(edited or {})}  # on top of edits kept while it waited
        checked = check_edit(approval.action, merged, zone=self.profile.zone, now=self.clock())
        self._move(approval, "approved", by=by, expect="pending", edited=checked)
        self.store.audit("approved", actor=by, subject=approval.action.kind.value,
                         detail={"action_id": approval.id, "edited": bool(checked)})
        return self._carry_out(approval.id)

    def retry(self, approval_id: str, *, by: str) -> Approval:
        """Carry out a failed action again (a mail that may have left is never sent twice: see send_once)."""
        approval = self.store.get_approval(approval_id)
        self._move(approval, "approved", by=by, expect="failed")
        self.store.audit("retried", actor=by, subject=approval.action.kind.value, detail={"action_id": approval.id})
        return self._carry_out(approval.id)

    def reject(self, approval_id: str, *, by: str, reason: str = "") -> Approval:
        return self._close(approval_id, "rejected", by=by, reason=reason, expect="pending")

    def dismiss(self, approval_id: str, *, by: str, reason: str = "") -> Approval:
        """Put a failed action away without carrying it out."""
        return self._close(approval_id, "dismissed", by=by, reason=reason, expect="failed")

    def _close(self, approval_id: str, status: ApprovalStatus, *, by: str, reason: str,
               expect: ApprovalStatus) -> Approval:
        approval = self.store.get_approval(approval_id)
        self._move(approval, status, by=by, expect=expect)
        self.store.audit(status, actor=by, subject=approval.action.kind.value,
                         detail={"action_id": approval.id, "reason": reason})
        return self.store.get_approval(approval.id)

    def _move(self, approval: Approval, status: ApprovalStatus, *, by: str, expect: ApprovalStatus,
              edited: dict[str, Any] | None = None) -> None:
        if not self.store.set_approval(approval.id, status, by=by, edited=edited, expect=expect):
            now = self.store.get_approval(approval.id).status
            raise PersonaError(f"approval {approval.id[:8]} is {now}, not {expect}")

    def _carry_out(self, approval_id: str) -> Approval:
        approval = self.store.get_approval(approval_id)
        try:
            receipt = self._execute(approval.effective_action)
        except Exception as exc:
            self.store.set_approval(approval.id, "failed", receipt=str(exc))
            raise ActionFailed(f"approval {approval.id[:8]} was approved, but carrying it out failed: {exc}"
                               f" (`persona approvals retry {approval.id[:8]}` tries again)") from exc
        self.store.set_approval(approval.id, "executed", receipt=receipt)
        return self.store.get_approval(approval.id)

    def _execute(self, action: Action) -> str:
        executor = self.executors.get(action.kind)
        if executor is None:
            receipt = "recorded (no channel delivers this action here)"
        else:
            try:
                receipt = executor(action)
            except Exception as exc:
                self.store.audit("failed", actor="twin", subject=action.kind.value,
                                 detail={"action_id": action.id, "error": str(exc)})
                raise
        self.store.audit("executed", actor="twin", subject=action.kind.value,
                         detail={"action_id": action.id, "receipt": receipt, "targets": action.targets})
        return receipt

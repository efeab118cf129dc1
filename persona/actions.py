"""The only road from a proposed Action to the outside world: policy, then run / queue / refuse.

Executors are plain callables registered per ActionKind by whoever owns the channel (email, calendar,
chat). Every decision and every execution is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from persona.errors import PersonaError
from persona.events import Action, ActionKind, Decision, Verdict
from persona.policy import decide
from persona.profile import Profile
from persona.store import Approval, StateStore

Executor = Callable[[Action], str]


class Outcome(BaseModel):
    action_id: str
    decision: Decision
    receipt: str = ""  # what the executor reported, when it ran


class ActionGate:
    def __init__(self, store: StateStore, profile: Profile, executors: dict[ActionKind, Executor] | None = None):
        self.store = store
        self.profile = profile
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
        approval = self.store.get_approval(approval_id)
        if not self.store.set_approval(approval.id, "approved", by=by, edited=edited, expect="pending"):
            raise PersonaError(f"approval {approval.id[:8]} is {approval.status}, not pending")
        approval = self.store.get_approval(approval.id)
        self.store.audit("approved", actor=by, subject=approval.action.kind.value,
                         detail={"action_id": approval.id, "edited": bool(edited)})
        try:
            receipt = self._execute(approval.effective_action)
        except Exception as exc:
            self.store.set_approval(approval.id, "failed", receipt=str(exc))
            raise
        self.store.set_approval(approval.id, "executed", receipt=receipt)
        return self.store.get_approval(approval.id)

    def reject(self, approval_id: str, *, by: str, reason: str = "") -> Approval:
        approval = self.store.get_approval(approval_id)
        if not self.store.set_approval(approval.id, "rejected", by=by, expect="pending"):
            raise PersonaError(f"approval {approval.id[:8]} is {approval.status}, not pending")
        self.store.audit("rejected", actor=by, subject=approval.action.kind.value,
                         detail={"action_id": approval.id, "reason": reason})
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

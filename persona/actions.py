"""The only road from a proposed Action to the outside world: payload check, policy, then run / queue / refuse.

Executors are plain callables per ActionKind, looked up in one place (`Executors`): the home's own for
the gate's life, a channel's only while the channel is open. Every decision and every execution is
written to the audit log.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from persona.approval_edits import check_edit
from persona.errors import ActionFailed, InvalidPayload, PersonaError
from persona.events import Action, ActionKind, Decision, Verdict
from persona.payloads import PAYLOADS, Payload
from persona.policy import decide
from persona.profile import Profile
from persona.store import Approval, ApprovalStatus, StateStore

Executor = Callable[[Action], str]


class Outcome(BaseModel):
    action_id: str
    decision: Decision
    receipt: str = ""  # what the executor reported, when it ran


class Executors:
    """Who carries out each ActionKind right now, in one place.

    The home's own executors (`lasting`) stay as long as this object. A channel's are in only while the
    channel is open (`while_open`), so once it stops, nothing reaches its closed connection: an approval
    then finds no executor and fails saying so, until someone opens the channel again.
    """

    def __init__(self, lasting: Mapping[ActionKind, Executor] | None = None) -> None:
        self._lasting = dict(lasting or {})
        # by the `while_open` that put them in, with the thread that opened them
        self._open: dict[object, tuple[int, dict[ActionKind, Executor]]] = {}
        self._lock = threading.Lock()  # the server opens channels for approvals on several threads

    def get(self, kind: ActionKind) -> Executor | None:
        """The executor of the channel this thread opened last that carries out `kind`, else of the one
        any thread opened last (the server's chat), else the home's, else None."""
        mine = self.opened_here(kind)
        if mine is not None:
            return mine
        with self._lock:
            opened = [executors[kind] for _, executors in self._open.values() if kind in executors]
        return opened[-1] if opened else self._lasting.get(kind)

    def opened_here(self, kind: ActionKind) -> Executor | None:
        """What this thread opened for `kind` (innermost first), or the home's own: an executor no other
        thread can close while this one uses it."""
        here = threading.get_ident()
        with self._lock:
            opened = [
                executors[kind]
                for thread, executors in self._open.values()
                if thread == here and kind in executors
            ]
        return opened[-1] if opened else self._lasting.get(kind)

    def __contains__(self, kind: object) -> bool:
        return isinstance(kind, ActionKind) and self.get(kind) is not None

    @contextmanager
    def while_open(self, executors: Mapping[ActionKind, Executor]) -> Iterator[None]:
        """`executors` carry out their kinds until the block ends, however it ends (opened inside an open
        channel's block, they come first and leave first)."""
        token = object()
        with self._lock:
            self._open[token] = (threading.get_ident(), dict(executors))
        try:
            yield
        finally:
            with self._lock:
                del self._open[token]


class ActionGate:
    """The one place an Action is decided and carried out.

    Guarantees: a payload that does not fit its kind's model (`persona.payloads`) is refused and audited
    before policy or any executor sees it; nothing runs unless `policy.decide` says RUN or the owner
    approved it (`approve`, `retry`), and then only through the executor `executors` holds for its kind
    at that moment; every decision, approval, rejection, execution and failure is written to the store's
    audit log; an approval moves only from the state it is expected in (compare-and-set), so two
    approvers never both carry it out; an owner's edit is checked (`check_edit`) before anything runs.
    """

    def __init__(
        self,
        store: StateStore,
        profile: Profile,
        executors: Mapping[ActionKind, Executor] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        payloads: Mapping[ActionKind, type[Payload]] = PAYLOADS,
    ):
        self.store = store
        self.profile = profile
        self.clock = clock  # an edited meeting time must lie ahead
        self.executors = Executors(executors)
        self.payloads = payloads  # what each kind must carry (an eval of foreign tools brings its own)

    def submit(self, action: Action) -> Outcome:
        """Check, decide and audit `action`; run it now, queue it for the owner, or refuse it."""
        try:
            self._check(action)
        except InvalidPayload as exc:
            decision = Decision(verdict=Verdict.REFUSE, reason=str(exc), rule="payload")
        else:
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
            return Outcome(
                action_id=action.id, decision=decision, receipt=self._execute(action, required=False)
            )
        if decision.verdict is Verdict.APPROVE:
            self.store.enqueue_approval(action, decision)
        return Outcome(action_id=action.id, decision=decision)

    def approve(self, approval_id: str, *, by: str, edited: dict[str, Any] | None = None) -> Approval:
        """Carry out a pending action, with the owner's edits (checked first: a bad one leaves it pending)."""
        approval = self.store.get_approval(approval_id)
        merged = {**(approval.edited or {}), **(edited or {})}  # on top of edits kept while it waited
        checked = check_edit(approval.action, merged, zone=self.profile.zone, now=self.clock())
        self._move(approval, "approved", by=by, expect="pending", edited=checked)
        self.store.audit(
            "approved",
            actor=by,
            subject=approval.action.kind.value,
            detail={"action_id": approval.id, "edited": bool(checked)},
        )
        return self._carry_out(approval.id)

    def retry(self, approval_id: str, *, by: str) -> Approval:
        """Carry out a failed action again (a mail that may have left is never sent twice: see send_once)."""
        approval = self.store.get_approval(approval_id)
        self._move(approval, "approved", by=by, expect="failed")
        self.store.audit(
            "retried", actor=by, subject=approval.action.kind.value, detail={"action_id": approval.id}
        )
        return self._carry_out(approval.id)

    def reject(self, approval_id: str, *, by: str, reason: str = "") -> Approval:
        return self._close(approval_id, "rejected", by=by, reason=reason, expect="pending")

    def dismiss(self, approval_id: str, *, by: str, reason: str = "") -> Approval:
        """Put a failed action away without carrying it out."""
        return self._close(approval_id, "dismissed", by=by, reason=reason, expect="failed")

    def _close(
        self, approval_id: str, status: ApprovalStatus, *, by: str, reason: str, expect: ApprovalStatus
    ) -> Approval:
        approval = self.store.get_approval(approval_id)
        self._move(approval, status, by=by, expect=expect)
        self.store.audit(
            status,
            actor=by,
            subject=approval.action.kind.value,
            detail={"action_id": approval.id, "reason": reason},
        )
        return self.store.get_approval(approval.id)

    def _move(
        self,
        approval: Approval,
        status: ApprovalStatus,
        *,
        by: str,
        expect: ApprovalStatus,
        edited: dict[str, Any] | None = None,
    ) -> None:
        if not self.store.set_approval(approval.id, status, by=by, edited=edited, expect=expect):
            now = self.store.get_approval(approval.id).status
            raise PersonaError(f"approval {approval.id[:8]} is {now}, not {expect}")

    def _carry_out(self, approval_id: str) -> Approval:
        approval = self.store.get_approval(approval_id)
        try:
            receipt = self._execute(approval.effective_action)
        except Exception as exc:
            self.store.set_approval(approval.id, "failed", receipt=str(exc))
            raise ActionFailed(
                f"approval {approval.id[:8]} was approved, but carrying it out failed: {exc}"
                f" (`persona approvals retry {approval.id[:8]}` tries again)"
            ) from exc
        self.store.set_approval(approval.id, "executed", receipt=receipt)
        return self.store.get_approval(approval.id)

    def _check(self, action: Action) -> None:
        model = self.payloads.get(action.kind)
        if model is None:
            raise InvalidPayload(f"{action.kind.value}: no payload model here says what it carries")
        model.of(action)

    def _execute(self, action: Action, *, required: bool = True) -> str:
        """Run `action` through the executor open for its kind, its payload checked again (an approval may
        be stored by an older version, or edited). With no executor: for an approval (`required`) a
        failure saying so; for a submit, a record that nothing outside was touched (a chat reply its
        caller shows itself, a kind the twin never carries out)."""
        executor = self.executors.get(action.kind)
        if executor is None and not required:
            receipt = "recorded (no channel delivers this action here)"
        else:
            try:
                self._check(action)
                if executor is None:
                    raise PersonaError(
                        f"nothing here carries out {action.kind.value}: its channel is not open"
                    )
                receipt = executor(action)
            except Exception as exc:
                self.store.audit(
                    "failed",
                    actor="twin",
                    subject=action.kind.value,
                    detail={"action_id": action.id, "error": str(exc)},
                )
                raise
        self.store.audit(
            "executed",
            actor="twin",
            subject=action.kind.value,
            detail={"action_id": action.id, "receipt": receipt, "targets": action.targets},
        )
        return receipt

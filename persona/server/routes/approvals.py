"""The owner's approval queue: list, approve (optionally edited first), reject."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from persona.delivery import delivering
from persona.server.auth import Owner
from persona.server.state import server_state
from persona.store import Approval, ApprovalStatus

router = APIRouter(prefix="/api/approvals", tags=["approvals"])


class ApproveIn(BaseModel):
    edited: dict[str, Any] | None = None  # payload fields the owner changed before sending


class RejectIn(BaseModel):
    reason: str = ""


@router.get("")
async def list_approvals(
    request: Request, _: Owner, status: ApprovalStatus | None = "pending"
) -> list[Approval]:
    return await asyncio.to_thread(server_state(request).app.store.approvals, status)


@router.post("/{approval_id}/approve")
async def approve(approval_id: str, body: ApproveIn, request: Request, owner: Owner) -> Approval:
    app = server_state(request).app

    def approve_and_deliver() -> Approval:
        with delivering(app, app.store.get_approval(approval_id).action.kind):
            return app.gate.approve(approval_id, by=owner.address, edited=body.edited or None)

    return await asyncio.to_thread(approve_and_deliver)


@router.post("/{approval_id}/reject")
async def reject(approval_id: str, body: RejectIn, request: Request, owner: Owner) -> Approval:
    gate = server_state(request).app.gate
    return await asyncio.to_thread(gate.reject, approval_id, by=owner.address, reason=body.reason)

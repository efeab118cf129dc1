"""The owner's approval queue: list, read one, approve (optionally edited first), reject; the decided ones,
and a failed one retried or dismissed. A bad edit is a 422 naming the field; the approval stays pending.
Each decision's answer says in `X-Waiting-Approvals` how many still wait: the page's navigation shows it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from persona.approval_detail import ApprovalDetail, approval_detail
from persona.channels.delivery import carried_out
from persona.server.auth import Owner
from persona.server.state import server_state
from persona.store import Approval, ApprovalStatus

router = APIRouter(prefix="/api/approvals", tags=["approvals"])

WAITING_HEADER = "X-Waiting-Approvals"


class ApproveIn(BaseModel):
    edited: dict[str, Any] | None = None  # payload fields the owner changed: see `editable` in the detail


class ReasonIn(BaseModel):
    reason: str = ""


@router.get("")
async def list_approvals(
    request: Request, _: Owner, status: ApprovalStatus | None = "pending"
) -> list[Approval]:
    return await asyncio.to_thread(server_state(request).app.store.approvals, status)


@router.get("/history")
async def history(
    request: Request, _: Owner, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[Approval]:
    """Every approval no longer pending, latest decided first."""
    return await asyncio.to_thread(server_state(request).app.store.decided_approvals, limit)


@router.get("/{approval_id}")
async def detail(approval_id: str, request: Request, _: Owner) -> ApprovalDetail:
    return await asyncio.to_thread(approval_detail, server_state(request).app, approval_id)


@router.post("/{approval_id}/approve")
async def approve(
    approval_id: str, body: ApproveIn, request: Request, response: Response, owner: Owner
) -> Approval:
    app = server_state(request).app
    return await _decided(
        request,
        response,
        lambda: carried_out(
            app, approval_id, lambda: app.gate.approve(approval_id, by=owner.address, edited=body.edited)
        ),
    )


@router.post("/{approval_id}/retry")
async def retry(approval_id: str, request: Request, response: Response, owner: Owner) -> Approval:
    app = server_state(request).app
    return await _decided(
        request,
        response,
        lambda: carried_out(app, approval_id, lambda: app.gate.retry(approval_id, by=owner.address)),
    )


@router.post("/{approval_id}/reject")
async def reject(
    approval_id: str, body: ReasonIn, request: Request, response: Response, owner: Owner
) -> Approval:
    gate = server_state(request).app.gate
    return await _decided(
        request, response, lambda: gate.reject(approval_id, by=owner.address, reason=body.reason)
    )


@router.post("/{approval_id}/dismiss")
async def dismiss(
    approval_id: str, body: ReasonIn, request: Request, response: Response, owner: Owner
) -> Approval:
    gate = server_state(request).app.gate
    return await _decided(
        request, response, lambda: gate.dismiss(approval_id, by=owner.address, reason=body.reason)
    )


async def _decided(request: Request, response: Response, decide: Callable[[], Approval]) -> Approval:
    """`decide`, then how many approvals still wait, in the answer's header."""
    store = server_state(request).app.store

    def run() -> tuple[Approval, int]:
        return decide(), store.count_approvals("pending")

    done, waiting = await asyncio.to_thread(run)
    response.headers[WAITING_HEADER] = str(waiting)
    return done

"""Liveness for anyone; Prometheus metrics for the owner (scrape with the owner token as bearer)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

from persona.server.auth import Caller, Owner
from persona.server.state import server_state

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    twin_ready: bool


class Me(BaseModel):
    role: str
    name: str
    address: str
    owner_name: str


@router.get("/health")
async def health(request: Request) -> Health:
    ready = server_state(request).twin is not None
    return Health(status="ok" if ready else "starting", twin_ready=ready)


@router.get("/metrics", response_class=Response)
async def metrics(request: Request, _: Owner) -> Response:
    body = await asyncio.to_thread(server_state(request).metrics.render)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get("/api/me")
async def me(request: Request, principal: Caller) -> Me:
    owner = server_state(request).app.profile.owner
    return Me(
        role=principal.role.value, name=principal.name, address=principal.address, owner_name=owner.name
    )

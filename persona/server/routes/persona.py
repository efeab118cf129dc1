"""The persona profile as the owner wrote it: view and edit the YAML (validated before it replaces it)."""

from __future__ import annotations

import asyncio
import os

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from persona.app import App
from persona.profile import Profile, load_profile
from persona.server.auth import Owner
from persona.server.state import server_state

router = APIRouter(prefix="/api/persona", tags=["persona"])


class PersonaOut(BaseModel):
    yaml: str
    profile: Profile


class PersonaIn(BaseModel):
    yaml: str = Field(min_length=1, max_length=200_000)


def read_persona(app: App) -> PersonaOut:
    path = app.home.require_profile()
    return PersonaOut(yaml=path.read_text(encoding="utf-8"), profile=load_profile(path))


def write_persona(app: App, text: str) -> PersonaOut:
    """Validate the new text as a file beside the profile, then swap it in atomically (comments kept)."""
    path = app.home.profile_path
    draft = path.with_name(path.name + ".edit")
    draft.write_text(text, encoding="utf-8")
    try:
        profile = load_profile(draft)
    except Exception:
        draft.unlink(missing_ok=True)
        raise
    os.replace(draft, path)
    return PersonaOut(yaml=text, profile=profile)


@router.get("")
async def get_persona(request: Request, _: Owner) -> PersonaOut:
    return await asyncio.to_thread(read_persona, server_state(request).app)


@router.put("")
async def put_persona(body: PersonaIn, request: Request, owner: Owner) -> PersonaOut:
    state = server_state(request)
    saved = await asyncio.to_thread(write_persona, state.app, body.yaml)
    state.reload_profile()
    await asyncio.to_thread(state.app.store.audit, "persona_edited", owner.address, "persona", {})
    return saved

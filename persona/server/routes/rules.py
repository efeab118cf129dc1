"""The owner's triage and approval rules on the desk: a form, and the JSON it reads and saves (owner only).

A save goes the persona editor's way (`write_persona`: checked as a whole profile, then swapped in), so
the rules and the YAML are one file with one writer.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from pydantic import BaseModel

from persona.app import App
from persona.policy import RULED
from persona.rules import DECISIONS, Rules, read_rules, rules_of, with_rules
from persona.server.auth import Owner
from persona.server.routes.pages import MaybePrincipal, owner_only, render
from persona.server.routes.persona import write_persona
from persona.server.state import server_state
from persona.skills.triage import Label

router = APIRouter(tags=["rules"])


class Choices(BaseModel):
    """The values a rule's fields may take, for the form's selects."""

    labels: list[str] = [label.value for label in Label]
    matches: list[str] = ["sender", "keyword"]
    actions: list[str] = RULED  # the rest never ask a rule: saying otherwise in a form would mislead
    decisions: list[str] = DECISIONS


class RulesOut(Rules):
    choices: Choices = Choices()

    @classmethod
    def of(cls, rules: Rules) -> RulesOut:
        return cls(triage=rules.triage, approval_rules=rules.approval_rules)


def save_rules(app: App, rules: Rules) -> Rules:
    path = app.home.require_profile()
    saved = write_persona(app, with_rules(path.read_text(encoding="utf-8"), rules))
    return rules_of(saved.profile)


@router.get("/api/rules")
async def get_rules(request: Request, _: Owner) -> RulesOut:
    return RulesOut.of(rules_of(server_state(request).app.profile))


@router.put("/api/rules")
async def put_rules(request: Request, owner: Owner, body: Annotated[dict[str, Any], Body()]) -> RulesOut:
    """Replace all triage and approval rules; a bad value is a 422 naming the rule and field, nothing saved."""
    state = server_state(request)
    saved = await asyncio.to_thread(save_rules, state.app, read_rules(body))
    state.reload_profile()
    detail = {"triage": len(saved.triage), "approval_rules": len(saved.approval_rules)}
    await asyncio.to_thread(state.app.store.audit, "rules_edited", owner.address, "persona", detail)
    return RulesOut.of(saved)


@router.get("/rules", include_in_schema=False)
async def rules_page(request: Request, principal: MaybePrincipal) -> Response:
    if (elsewhere := owner_only(principal)) is not None:
        return elsewhere
    profile = server_state(request).app.profile
    return await render(
        request,
        "rules.html",
        principal,
        rules=rules_of(profile),
        choices=Choices(),
        hours=profile.working_hours,
        boundaries=profile.boundaries,
    )

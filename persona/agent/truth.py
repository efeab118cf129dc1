"""A reply may say something was done only if the turn's actions did it.

Checked on every reply, the model's and the skills' alike: a claim that something happened needs an
action of that kind that ran; a promise ("I'll send it once Dana approves") or "I've passed it on"
needs one that ran or that waits for the owner; an offered time ("let's meet at 4") needs the solver,
which only skills consult. Sentences that claim more are cut; what is left must still say something,
or a plain answer replaces it.
"""

from __future__ import annotations

from persona.events import ActionKind
from persona.skills.claims import Claim, ClaimKind, action_claims, sourced, without_sentences
from persona.skills.turn import Done

BACKS: dict[ActionKind, set[ClaimKind]] = {
    ActionKind.CREATE_EVENT: {"book", "invite"},
    ActionKind.MOVE_EVENT: {"move", "send"},
    ActionKind.CANCEL_EVENT: {"cancel", "send"},
    ActionKind.SEND_MAIL: {"send"},
    ActionKind.FORWARD_MAIL: {"send"},
    ActionKind.LEAVE_MESSAGE: {"pass_on", "send"},
    ActionKind.REMEMBER: {"remember"},
}
_MIN_LEFT = 15  # characters a reply must keep after its false claims are cut


def false_claims(
    text: str, done: list[Done], *, offered_times: bool = False, sources: str = ""
) -> list[Claim]:
    """The claims in `text` that `done` does not back. `offered_times`: the times in the text are the
    solver's (a skill wrote them). `sources`: what the model was shown; a deed said of the world ("the
    cutover was moved to Sunday") that they hold is a fact, not the twin's claim."""
    ran = {kind for d in done if d.ran for kind in BACKS.get(d.kind, set())}
    waiting = {kind for d in done if d.waits for kind in BACKS.get(d.kind, set())}
    if any(d.waits for d in done):
        waiting.add("pass_on")  # something now waits for the owner: it was passed on
    false = []
    for claim in action_claims(text):
        if not claim.own and claim.done and sources and sourced(claim.sentence, sources):
            continue
        if claim.kind == "offer_time":
            backed = offered_times
        elif claim.done:
            backed = claim.kind in ran or (claim.kind == "pass_on" and "pass_on" in waiting)
        else:
            backed = claim.kind in ran | waiting
        if not backed:
            false.append(claim)
    return false


def truthful(
    text: str, done: list[Done], fallback: str, *, offered_times: bool = False, sources: str = ""
) -> tuple[str, list[Claim]]:
    """`text` without its false claims (or `fallback` when too little is left), and the claims cut."""
    false = false_claims(text, done, offered_times=offered_times, sources=sources)
    if not false:
        return text, []
    kept = without_sentences(text, {c.sentence for c in false})
    return (kept if len(kept) >= _MIN_LEFT else fallback), false

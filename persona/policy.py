"""The one function that decides whether a proposed Action runs, waits for the owner, or is refused.

Principle (ARCHITECTURE.md, CaMeL): text from outside is data. An action whose target or payload came
from untrusted text needs the owner's approval unless a rule the owner wrote allows it; content may
still go to targets the owner chose when every one of them could have written it (CaMeL's readers
rule, narrowed to writers). Destructive or exfiltrating actions never run unattended on untrusted input,
and a removal runs only when the owner named what to remove; non-owners can only cause replies to
themselves.
"""

from __future__ import annotations

from persona.events import Action, ActionKind, Decision, Principal, Provenance, Source, Verdict
from persona.profile import ApprovalRule, Profile, Role

# Actions whose effect stays inside the owner's own space, or answers the asker in their own thread.
_CONTAINED = {ActionKind.SAVE_DRAFT, ActionKind.LEAVE_MESSAGE}
# Actions that change how the twin itself knows and sorts things: the owner's alone.
_OWNER_ONLY = {ActionKind.REMEMBER, ActionKind.CORRECT_TRIAGE}
# Actions that remove or move data out of the owner's control: never unattended, never by non-owners.
DESTRUCTIVE = {ActionKind.DELETE_MAIL, ActionKind.DELETE_DOCUMENT, ActionKind.CANCEL_EVENT}
_EXFILTRATING = {ActionKind.FORWARD_MAIL, ActionKind.SHARE_DOCUMENT, ActionKind.REVEAL_MEMORY}
# Actions that reach other people on the owner's behalf.
_OUTBOUND = {
    ActionKind.SEND_MAIL,
    ActionKind.CREATE_EVENT,
    ActionKind.MOVE_EVENT,
    ActionKind.ADD_ATTENDEES,
    ActionKind.ANSWER_INVITE,
}
# What an approval rule in the profile can let run without asking: only outbound actions consult them.
RULED = [kind.value for kind in ActionKind if kind in _OUTBOUND]


def _selector_matches(selector: str, address: str, profile: Profile) -> bool:
    selector = selector.strip().lower()
    if selector.startswith("role:"):
        role = Principal.resolve(profile, address).role
        return role.value == selector.removeprefix("role:")
    return selector == address.strip().lower()


def _allowing_rule(action: Action, profile: Profile) -> ApprovalRule | None:
    if not action.targets:
        return None
    for rule in profile.approval_rules:
        if rule.action == action.kind.value and all(
            any(_selector_matches(sel, target, profile) for sel in rule.to) for target in action.targets
        ):
            return rule
    return None


def _back_to_authors(p: Provenance, targets: list[str]) -> bool:
    """CaMeL's readers rule, narrowed to writers: handing text back to the people who could have written
    it leaks nothing to them and cannot deceive them in the owner's name (a mere reader of an attacker's
    text could be, once the owner repeats it)."""
    return p.authors is not None and bool(targets) and all(t.strip().lower() in p.authors for t in targets)


def _untrusted(action: Action) -> list[str]:
    """Which parts of the action came from text the owner did not write. Content is excused when it goes
    back to whoever could have written it; a target taken from such text never is."""
    parts = []
    if not action.target_provenance and action.targets:
        parts.append("targets of unknown origin")
    if any(not p.source.trusted for p in action.target_provenance):
        parts.append("targets taken from " + _sources(action.target_provenance))
    content = [p for p in action.payload_provenance if not _back_to_authors(p, action.targets)]
    if any(not p.source.trusted for p in content):
        parts.append("content derived from " + _sources(content))
    return parts


def _sources(provenance: list[Provenance]) -> str:
    return ", ".join(sorted({p.source.words for p in provenance if not p.source.trusted}))


def _answers_asker(action: Action) -> bool:
    """A reply that reaches only the principal who wrote to the twin, in their own conversation."""
    asker = action.requested_by.address
    return bool(asker) and action.targets == [asker]


def decide(action: Action, profile: Profile) -> Decision:
    """Whether `action` runs now, waits for the owner, or is refused, with the reason and the rule (audited).

    Pure: it reads the action's kind, who asked, its targets and where they and its content came from,
    and the profile; never the payload's words, so text in a mail cannot argue with it. Guarantees: a
    chat reply goes only to the person who asked; only the owner causes a destructive, exfiltrating,
    memory or triage action; anything that leaves the owner's space with a target or content from
    untrusted text waits for the owner (content may go back to the people who could have written it);
    an owner's approval rule never runs a stranger's request; a removal runs unattended only when the
    owner named what to remove; a kind no rule covers is refused.
    """
    requester = action.requested_by
    kind = action.kind

    if kind is ActionKind.REPLY_CHAT:
        if requester.is_owner or not action.targets or _answers_asker(action):
            return Decision(
                verdict=Verdict.RUN, reason="chat reply to the person who asked", rule="reply-to-asker"
            )
        return Decision(
            verdict=Verdict.REFUSE,
            reason="a chat reply may only go to the person who asked",
            rule="reply-to-asker",
        )

    if kind in _CONTAINED:
        return Decision(
            verdict=Verdict.RUN, reason=f"{kind.value} stays in the owner's own space", rule="contained"
        )

    if (
        kind is ActionKind.WRITE_BRIEF
    ):  # the brief holds everything the owner sees: it is mailed to them alone
        if all(profile.is_owner(target) for target in action.targets):
            return Decision(verdict=Verdict.RUN, reason="the brief goes to the owner only", rule="contained")
        return Decision(
            verdict=Verdict.APPROVE,
            reason="a brief addressed to someone besides the owner",
            rule="needs-owner",
        )

    if kind in _OWNER_ONLY:
        if requester.is_owner:
            return Decision(
                verdict=Verdict.RUN, reason=f"the owner asked for {kind.value}", rule="owner-instruction"
            )
        return Decision(
            verdict=Verdict.REFUSE, reason=f"only the owner can cause {kind.value}", rule="owner-only-action"
        )

    if kind in DESTRUCTIVE | _EXFILTRATING and not requester.is_owner:
        return Decision(
            verdict=Verdict.REFUSE,
            reason=f"{requester.role.value} {requester.address or ''} cannot cause {kind.value}".replace(
                "  ", " "
            ),
            rule="owner-only-action",
        )

    untrusted = _untrusted(action)
    rule = _allowing_rule(action, profile)

    if kind in DESTRUCTIVE | _EXFILTRATING:
        if untrusted:
            return Decision(
                verdict=Verdict.APPROVE,
                reason=f"{kind.value} with {'; '.join(untrusted)}",
                rule="untrusted-destructive",
            )
        if kind in DESTRUCTIVE and not any(p.source is Source.OWNER for p in action.target_provenance):
            # Found in the owner's data is not enough: the twin chose what to remove, so the owner sees it first.
            return Decision(
                verdict=Verdict.APPROVE,
                reason=f"the owner did not name what to {kind.value}",
                rule="unnamed-destructive",
            )
        return Decision(
            verdict=Verdict.RUN, reason=f"the owner asked for {kind.value} directly", rule="owner-instruction"
        )

    if kind is ActionKind.CREATE_EVENT and not action.targets and requester.is_owner:
        # An event without attendees reaches nobody: it only writes into the owner's own calendar.
        return Decision(
            verdict=Verdict.RUN,
            reason="an event without attendees stays in the owner's calendar",
            rule="own-calendar",
        )

    if kind in _OUTBOUND:
        if rule is not None and requester.role is not Role.STRANGER:  # strangers never trigger auto-send
            return Decision(
                verdict=Verdict.RUN,
                reason=f"owner rule allows {rule.action} to {', '.join(rule.to)}",
                rule="owner-rule",
            )
        if requester.is_owner and not untrusted:
            return Decision(
                verdict=Verdict.RUN,
                reason=f"the owner asked for {kind.value} directly",
                rule="owner-instruction",
            )
        why = "; ".join(untrusted) or f"{kind.value} on behalf of {requester.role.value}"
        return Decision(verdict=Verdict.APPROVE, reason=why, rule="needs-owner")

    return Decision(verdict=Verdict.REFUSE, reason=f"no policy allows {kind.value}", rule="default-deny")

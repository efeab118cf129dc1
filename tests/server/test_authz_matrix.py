"""Every endpoint × every kind of caller: owner, colleague A, colleague B, no token, revoked token."""

from __future__ import annotations

import pytest
from server_helpers import Served, answering, held_for_owner
from test_executors import MAIL

PRINCIPALS = ["owner", "colleague_a", "colleague_b", "stranger", "revoked"]
A_SESSION = "a-private-session"
MISSING = "0123456789abcdef"

# (method, path, json body) -> expected status per principal, in PRINCIPALS order.
OWNER_ONLY = (200, 403, 403, 401, 401)
ANY_SIGNED_IN = (200, 200, 200, 401, 401)
MATRIX = [
    ("GET", "/health", None, (200, 200, 200, 200, 200)),
    ("GET", "/openapi.json", None, (200, 200, 200, 200, 200)),
    ("GET", "/api/me", None, ANY_SIGNED_IN),
    ("POST", "/api/chat", {"message": "hello"}, ANY_SIGNED_IN),
    ("GET", "/api/sessions", None, ANY_SIGNED_IN),
    ("GET", f"/api/sessions/{A_SESSION}", None, (404, 200, 404, 401, 401)),
    ("GET", "/api/conversations", None, OWNER_ONLY),
    ("GET", f"/api/conversations/{A_SESSION}?person=sam%40northwind.example", None, OWNER_ONLY),
    ("GET", "/api/approvals", None, OWNER_ONLY),
    ("GET", "/api/approvals?status=executed", None, OWNER_ONLY),
    ("POST", f"/api/approvals/{MISSING}/approve", {"edited": {"body": "x"}}, (400, 403, 403, 401, 401)),
    ("POST", f"/api/approvals/{MISSING}/reject", {"reason": "no"}, (400, 403, 403, 401, 401)),
    ("GET", "/api/approvals/history", None, OWNER_ONLY),
    ("GET", f"/api/approvals/{MISSING}", None, (400, 403, 403, 401, 401)),
    ("POST", f"/api/approvals/{MISSING}/retry", None, (400, 403, 403, 401, 401)),
    ("POST", f"/api/approvals/{MISSING}/dismiss", {"reason": "no"}, (400, 403, 403, 401, 401)),
    ("GET", "/api/messages", None, OWNER_ONLY),
    ("GET", "/api/messages?unread=true", None, OWNER_ONLY),
    ("POST", "/api/messages/read", {"ids": [MISSING]}, OWNER_ONLY),
    ("GET", "/api/audit", None, OWNER_ONLY),
    ("GET", "/api/audit/verify", None, OWNER_ONLY),
    ("GET", "/api/activity", None, OWNER_ONLY),
    ("GET", "/api/memory/search?q=offer", None, OWNER_ONLY),
    ("GET", "/api/memory/sources", None, OWNER_ONLY),
    ("DELETE", f"/api/memory/items/{MISSING}", None, OWNER_ONLY),
    ("DELETE", "/api/memory/sources?source=no-such-source", None, OWNER_ONLY),
    ("GET", "/api/persona", None, OWNER_ONLY),
    ("PUT", "/api/persona", "CURRENT_YAML", OWNER_ONLY),
    ("GET", "/api/calendar?start=2026-12-07&days=7", None, OWNER_ONLY),
    ("GET", "/api/rules", None, OWNER_ONLY),
    ("PUT", "/api/rules", {"triage": [], "approval_rules": []}, OWNER_ONLY),
    ("GET", "/metrics", None, OWNER_ONLY),
    ("GET", "/calendar", None, (200, 303, 303, 303, 303)),
    ("GET", "/calendar?week=2026-12-07", None, (200, 303, 303, 303, 303)),
    ("GET", "/rules", None, (200, 303, 303, 303, 303)),
    ("GET", "/chat", None, (200, 200, 200, 303, 303)),
    ("GET", "/dashboard", None, (303, 303, 303, 303, 303)),
    ("GET", "/today", None, (200, 303, 303, 303, 303)),
    ("GET", "/approvals", None, (200, 303, 303, 303, 303)),
    ("GET", "/approvals?show=history", None, (200, 303, 303, 303, 303)),
    ("GET", "/memory", None, (200, 303, 303, 303, 303)),
    ("GET", "/activity", None, (200, 303, 303, 303, 303)),
    ("GET", "/persona", None, (200, 303, 303, 303, 303)),
    ("GET", "/conversations", None, (200, 303, 303, 303, 303)),
    ("GET", f"/conversations/{A_SESSION}?person=sam%40northwind.example", None, (200, 303, 303, 303, 303)),
]


@pytest.fixture(scope="module")
def seeded(twin: Served) -> Served:
    twin.model.replies.extend(["Hi Sam."] * 5)
    twin.chat("colleague_a", "a message only Sam and the owner's twin should see", session=A_SESSION)
    twin.model.replies.clear()
    return twin


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX]
)
@pytest.mark.parametrize("who", PRINCIPALS)
def test_endpoint_rights(seeded: Served, who: str, method: str, path: str, body, expected):
    if body == "CURRENT_YAML":
        body = {"yaml": seeded.app.home.profile_path.read_text()}
    if path == "/api/chat" and expected[PRINCIPALS.index(who)] == 200:
        seeded.model.replies.append(answering("Hello."))
    response = seeded.client.request(
        method, path, json=body, headers=seeded.headers(who), follow_redirects=False
    )
    assert response.status_code == expected[PRINCIPALS.index(who)], response.text
    if response.status_code in (401, 403, 404):
        assert response.json()["error"]  # a one-line reason, not an empty body
        assert "only Sam" not in response.text and "Sam Okafor" not in response.text
    if response.status_code == 303:
        home = "/today" if who == "owner" else "/chat"
        assert response.headers["location"] == ("/login" if who in ("stranger", "revoked") else home)


def test_session_read_back_only_by_its_owner_principal(seeded: Served):
    mine = seeded.client.get(f"/api/sessions/{A_SESSION}", headers=seeded.headers("colleague_a")).json()
    assert [m["role"] for m in mine["messages"]][:2] == ["human", "ai"]
    assert "only Sam" in mine["messages"][0]["text"]
    for other in ("colleague_b", "owner"):
        listed = seeded.client.get("/api/sessions", headers=seeded.headers(other)).json()
        assert A_SESSION not in {s["id"] for s in listed}


def test_same_session_id_from_another_colleague_is_a_separate_conversation(seeded: Served):
    """Reusing A's session id does not resume A's thread: B starts their own, and sees nothing of A's."""
    from server_helpers import echo_everything

    seeded.model.replies.append(echo_everything)
    events = seeded.chat("colleague_b", "what was said before?", session=A_SESSION)
    answer = "".join(d for e, d in events if e == "token")
    assert "only Sam" not in answer and "only Sam" not in str(seeded.model.calls[-1])
    b_view = seeded.client.get(f"/api/sessions/{A_SESSION}", headers=seeded.headers("colleague_b")).json()
    assert all("only Sam" not in m["text"] for m in b_view["messages"])


def test_colleague_cannot_approve_or_reject_a_real_pending_action(seeded: Served):
    from persona.events import ActionKind

    action = held_for_owner(
        seeded.app, "sam@northwind.example", ActionKind.SEND_MAIL, {**MAIL, "body": "hi Sam"}
    )
    for who in ("colleague_a", "colleague_b", "stranger", "revoked"):
        for verb in ("approve", "reject"):
            response = seeded.client.post(
                f"/api/approvals/{action.id}/{verb}", json={}, headers=seeded.headers(who)
            )
            assert response.status_code in (401, 403)
    assert seeded.app.store.get_approval(action.id).status == "pending"
    done = seeded.client.post(
        f"/api/approvals/{action.id}/reject", json={"reason": "no"}, headers=seeded.headers("owner")
    )
    assert done.status_code == 200 and done.json()["status"] == "rejected"

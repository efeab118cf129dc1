"""HTTP routes, one module per resource; `ROUTERS` is what the app factory mounts."""

from persona.server.routes import (
    approvals,
    audit,
    calendar,
    chat,
    conversations,
    desk,
    health,
    login,
    memory,
    messages,
    pages,
    persona,
    rules,
    sessions,
)

ROUTERS = [
    r.router
    for r in (
        health,
        login,
        chat,
        sessions,
        conversations,
        approvals,
        messages,
        audit,
        memory,
        persona,
        calendar,
        rules,
        pages,
        desk,
    )
]

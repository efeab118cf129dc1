"""Run a `persona` command, or the code paths behind one, as if no tooling extra were installed.

Usage: python without_extras.py persona ARGS...   the command itself
       python without_extras.py twin HOME         `persona ask`, `persona inbox` and `persona serve`'s app on
                                                  HOME, with the scripted model in place of a model server

A finder first on sys.meta_path makes the extras' libraries (aiohttp, hnswlib, matplotlib) fail to import
as a missing module does. At exit it prints `tried: NAMES` on stderr when persona's own code asked for one
(or one got loaded anyway), so a test tells a command that never touches them from one that caught the
ImportError. Libraries that probe for them and carry on (the openai client looks for aiohttp) are fine.
"""

from __future__ import annotations

import asyncio
import atexit
import runpy
import sys
from importlib.machinery import ModuleSpec
from pathlib import Path

EXTRAS = {"aiohttp", "hnswlib", "matplotlib"}
tried: set[str] = set()


def importer() -> str:
    """The module whose import is being carried out (an import statement, or importlib.import_module)."""
    frame = sys._getframe(2)
    while (
        frame.f_code.co_filename.startswith("<frozen importlib") or frame.f_globals["__name__"] == "importlib"
    ):
        frame = frame.f_back
    return str(frame.f_globals.get("__name__", ""))


class MissingExtras:
    def find_spec(self, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if name.partition(".")[0] in EXTRAS:
            if importer().partition(".")[0] == "persona":
                tried.add(name)
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def report() -> None:
    loaded = sorted(m for m in sys.modules if m.partition(".")[0] in EXTRAS)
    if tried or loaded:
        print(f"tried: {' '.join(sorted(tried | set(loaded)))}", file=sys.stderr)


def twin(home: Path) -> None:
    from langchain_core.messages import AIMessage

    import persona.cli.core  # noqa: F401 - `persona ask`'s own module
    from persona.agent.inbox import process_inbox
    from persona.agent.runner import Twin
    from persona.app import App
    from persona.channels.email.delivery import open_email_channel
    from persona.events import Event, Principal, Provenance
    from persona.home import Home
    from persona.llm.client import LLM
    from persona.llm.scripted import ScriptedChatModel
    from persona.scheduler.service import scheduler_lifespan
    from persona.server import create_app
    from persona.settings import Settings

    model = ScriptedChatModel(replies=[lambda _: AIMessage("The engine review is on Friday.")] * 4)
    app = App(Home(home), Settings(), llm=LLM(model, local=True))
    owner = Principal.owner(app.profile)

    async def ask() -> str:
        async with Twin.open(app) as opened:
            reply = await opened.respond(
                Event(
                    channel="cli",
                    principal=owner,
                    text="What is the plan?",
                    session_id="s",
                    provenance=Provenance.of(owner),
                )
            )
        return reply.text

    print(f"ask: {asyncio.run(ask())}")
    channel = open_email_channel(app)
    try:
        print(f"inbox: {len(process_inbox(app, channel).outcomes)} mails")
    finally:
        channel.stop()
    print(f"serve: {type(create_app(app, lifespan_hooks=[scheduler_lifespan])).__name__}")


if __name__ == "__main__":
    sys.meta_path.insert(0, MissingExtras())
    atexit.register(report)
    what, *rest = sys.argv[1:]
    if what == "persona":
        sys.argv = ["persona", *rest]
        runpy.run_module("persona", run_name="__main__", alter_sys=True)
    else:
        twin(Path(rest[0]))

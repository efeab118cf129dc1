"""The local model server process: llama-cpp-python's OpenAI-compatible app, in bounded memory, ending
itself when unused.

    python -m persona.llm.serve --model M.gguf --port P --users FILE [--idle-timeout S] ...

Started by `LocalServer`; a person never needs to run it by hand.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
from pathlib import Path

import uvicorn

from persona.llm.lifetime import Activity, Watchdog
from persona.llm.prefix_cache import PrefixCache

# glibc's mallopt parameters.
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


def return_freed_memory() -> None:
    """Give large freed buffers back to the kernel at once.

    A saved prompt state is ~30 MB; glibc raises its mmap threshold after freeing such a block, so the
    next ones land in heap arenas (one per thread) that are fragmented and never shrink: the process
    keeps growing although the cache is bounded. A fixed threshold keeps them mmapped; fewer arenas
    waste less."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is None or not hasattr(libc, "mallopt"):
        return  # not glibc: nothing to tune
    libc.mallopt(M_MMAP_THRESHOLD, 1 << 20)
    libc.mallopt(M_ARENA_MAX, 2)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cached-prompts", type=int, default=8, help="prompt states kept for reuse")
    parser.add_argument("--users", type=Path, required=True, help="the users file (see persona.llm.lifetime)")
    parser.add_argument("--idle-timeout", type=float, default=900.0, help="seconds unused before exiting")
    args = parser.parse_args(argv)

    return_freed_memory()
    from llama_cpp.server import app as server_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    app = server_app.create_app(
        server_settings=ServerSettings(
            host=args.host, port=args.port,
            # By default any new request (even GET /v1/models) cuts a running stream short with [DONE];
            # the server is shared by several homes and the scheduler, so requests queue.
            interrupt_requests=False,
        ),
        model_settings=[ModelSettings(
            model=str(args.model), n_ctx=args.n_ctx, n_threads=args.threads, n_threads_batch=args.threads,
            # The default keeps logits for every prompt token: ~5 GB reserved and slower prefill.
            logits_all=False,
            cache=False,  # PrefixCache below instead of the RAM cache that grows the process
        )],
    )  # fmt: skip
    server_app._llama_proxy().set_cache(PrefixCache(args.cached_prompts))  # the model create_app loaded
    activity = Activity(app)
    Watchdog(activity, args.users, args.idle_timeout).start()
    uvicorn.run(activity, host=args.host, port=args.port)


if __name__ == "__main__":
    main()

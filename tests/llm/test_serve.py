"""The watcher process reads llama-server's own counters from its /metrics page."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from persona.llm.serve import read_counters, read_usage

METRICS = """# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed, excluding cached tokens
# TYPE llamacpp:prompt_tokens_total counter
llamacpp:prompt_tokens_total 1773
llamacpp:prompt_tokens_cached_total 4862
llamacpp:n_decode_total 175
llamacpp:requests_processing 1
llamacpp:requests_deferred 0
process_start_time_seconds 12
"""


@pytest.fixture
def metrics_page() -> Iterator[tuple[str, list[str]]]:
    """A loopback server whose /metrics answers with the page in the list (replaceable by the test)."""
    page = [METRICS]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page[0].encode()
            self.send_response(200 if self.path == "/metrics" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", page
    server.shutdown()
    server.server_close()


def test_counters_are_the_llamacpp_metrics_by_name(metrics_page: tuple[str, list[str]]) -> None:
    base, _ = metrics_page
    counters = read_counters(base)
    assert counters == {
        "prompt_tokens_total": 1773.0,
        "prompt_tokens_cached_total": 4862.0,
        "n_decode_total": 175.0,
        "requests_processing": 1.0,
        "requests_deferred": 0.0,
    }
    usage = read_usage(base)
    assert usage is not None and usage.busy and usage.decoded == 175.0


def test_a_server_that_cannot_say_gives_no_usage(metrics_page: tuple[str, list[str]]) -> None:
    base, page = metrics_page
    page[0] = "llamacpp:n_decode_total 3\n"  # still starting: no request counters yet
    assert read_counters(base) == {"n_decode_total": 3.0}
    assert read_usage(base) is None
    assert read_counters("http://127.0.0.1:9") is None and read_usage("http://127.0.0.1:9") is None

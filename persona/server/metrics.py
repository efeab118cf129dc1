"""Prometheus metrics of one server, in its own registry (no process-global collectors)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from persona.app import App

_TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class _TwinCollector(Collector):
    """Read at scrape time: LLM token counts and the approval queue."""

    def __init__(self, app: App):
        self.app = app

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        tokens = CounterMetricFamily(
            "persona_llm_tokens", "LLM tokens by direction and purpose.", labels=["direction", "tag"]
        )
        calls = CounterMetricFamily("persona_llm_calls", "LLM calls by purpose.", labels=["tag"])
        llm = self.app.__dict__.get("llm")  # never start a model just to report on it
        for tag, usage in llm.usage.items() if llm is not None else []:
            tokens.add_metric(["in", tag], usage.prompt_tokens)
            tokens.add_metric(["out", tag], usage.completion_tokens)
            calls.add_metric([tag], usage.calls)
        pending = GaugeMetricFamily("persona_approvals_pending", "Actions waiting for the owner.")
        pending.add_metric([], len(self.app.store.approvals("pending", limit=100_000)))
        yield from (tokens, calls, pending)


class Metrics:
    def __init__(self, app: App):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "persona_http_requests", "HTTP requests.", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "persona_http_request_seconds",
            "HTTP request time, to the end of the body.",
            ["route"],
            registry=self.registry,
        )
        self.turns = Histogram(
            "persona_chat_turn_seconds",
            "Time of one chat turn in the twin.",
            buckets=_TURN_BUCKETS,
            registry=self.registry,
        )
        self.turn_errors = Counter(
            "persona_chat_turn_errors", "Chat turns that ended in an error.", ["kind"], registry=self.registry
        )
        self.in_flight = Gauge(
            "persona_chat_turns_in_flight",
            "Chat turns being answered now (queue size).",
            registry=self.registry,
        )
        self.registry.register(_TwinCollector(app))

    @contextmanager
    def turn(self) -> Iterator[None]:
        self.in_flight.inc()
        start = time.perf_counter()
        try:
            yield
        finally:
            self.in_flight.dec()
            self.turns.observe(time.perf_counter() - start)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts requests by route template (not raw path, so ids don't explode the label set)."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - start)

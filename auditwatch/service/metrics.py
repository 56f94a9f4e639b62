"""Prometheus text on an optional loopback port: the daemon's counters, read only when scraped.

Nothing is counted twice: a collector reads the daemon's own `Counters` and gauges at scrape time,
so the per-event path pays nothing for metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import start_http_server
from prometheus_client.core import CollectorRegistry, CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

_COUNTERS: dict[str, str] = {
    "records": "records read from the inputs",
    "events": "records parsed into events",
    "dead_letters": "records that could not become events",
    "alerts": "alerts raised",
    "delivered_batches": "batches acknowledged by Elasticsearch",
    "checkpoints": "checkpoints committed",
}


LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    host: str = "127.0.0.1"  # loopback only: a node exporter or agent on the same host scrapes it
    port: int | None = None  # None: no metrics endpoint


class DaemonCollector(Collector):
    def __init__(
        self, counters: Callable[[], Mapping[str, float]], gauges: Callable[[], Mapping[str, float]]
    ) -> None:
        self._counters = counters
        self._gauges = gauges

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        values = self._counters()
        for name, help_text in _COUNTERS.items():
            yield CounterMetricFamily(f"auditwatch_{name}", help_text, value=float(values.get(name, 0)))
        for name, value in self._gauges().items():
            yield GaugeMetricFamily(f"auditwatch_{name}", name.replace("_", " "), value=float(value))


@contextmanager
def serving(config: MetricsConfig, collector: Collector) -> Iterator[None]:
    """The endpoint runs (on a thread) while the context is open, when a port is configured."""
    if config.port is None:
        yield
        return
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    server, thread = start_http_server(config.port, addr=config.host, registry=registry)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

"""Counters the layers below the web keep for `GET /metrics` (liaison.web.metrics).

They count in this process and belong to no registry until an app registers them (so
importing this module registers nothing globally); a node on several processes adds up
its processes' counters at each scrape (liaison.web.metrics, multiprocess mode).
"""

from __future__ import annotations

from prometheus_client import Counter

# Where each process of a node on several processes keeps its metrics' files (read by
# prometheus_client, which must find it set before it is imported).
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

SCREENED_QUERIES = Counter(
    "liaison_screened_queries",
    "Substance queries and file rows screened by this process.",
    ["source"],  # "identify" (API/UI queries) or "file" (uploaded files)
    registry=None,
)
DELIVERY_FAILURES = Counter(
    "liaison_delivery_failures",
    "Failed attempts to deliver a batch to a peer, by peer.",
    ["peer"],
    registry=None,
)

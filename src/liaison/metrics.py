"""Counters the layers below the web keep for `GET /metrics` (liaison.web.metrics).

They count in this process only and belong to no registry until an app registers them
(so importing this module registers nothing globally); Prometheus sums processes itself.
"""

from __future__ import annotations

from prometheus_client import Counter

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

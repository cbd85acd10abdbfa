"""`liaison demo`: the shipped import manifest screened, then two peered nodes to log into.

- `manifest`: screens the example import manifest (package data in `examples/`), prints
  the verdicts and writes an HTML report;
- `nodes`: creates or reuses a US and a CN node, starts them, peers and seeds them;
- `conversation`: the seeded hotline exchange.

Its own package, with its files as package data, so the demo runs from an installed wheel.
"""

"""Identity: documents, names, registry extracts and probabilistic matching of people.

A pure library (no web, database or federation): the verification service and the
`liaison identity` command call it. Heavy dependencies (Splink, DuckDB, pandas) are imported
only by `matching`, `people` and `synth`, so importing `documents` or `names` stays cheap.
"""

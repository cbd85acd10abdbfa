"""Identity: documents, names, registry extracts and probabilistic matching of people.

A pure library (no web, database or federation): the verification service and the
`liaison identity` command call it. Heavy dependencies (Splink, DuckDB, pandas) are imported
only by `matching`, `people` and `synth`, so importing `documents` or `names` stays cheap.
"""

# The columns of a person in a registry extract or a request, after its id column: the
# REGISTRY and REQUESTS files, the synthetic population and a verification case's subject.
PERSON_FIELDS = (
    "family_name",
    "given_name",
    "family_name_native",
    "given_name_native",
    "sex",
    "date_of_birth",
    "place_of_birth",
    "id_number",
    "address",
)

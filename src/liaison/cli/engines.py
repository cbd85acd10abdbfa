"""Where bulk work runs, as the commands that do it take it: the local engine or a Dask
cluster (`liaison screen`, `liaison identity match`), one definition of each option."""

from __future__ import annotations

from typing import Any

import typer

ENGINES = ("local", "dask")


def engine_option(local: str, dask: str) -> Any:
    """--engine, with what each engine means for the command."""
    return typer.Option("local", "--engine", help=f"local ({local}) | dask ({dask}).")


def scheduler_option() -> Any:
    """--scheduler: the Dask cluster to use instead of a LocalCluster."""
    return typer.Option(
        None,
        "--scheduler",
        help="--engine dask: the Dask scheduler's address (tcp://host:8786); default a "
        "LocalCluster of --jobs worker processes.",
    )


def partition_option(default: int, unit: str) -> Any:
    """--partition-size: how many `unit` (records, requests) a Dask task takes."""
    return typer.Option(default, "--partition-size", help=f"--engine dask: {unit} per partition.")

"""What Dask's own housekeeping costs while a job runs: the CPU a one-worker LocalCluster's
processes use during a task that waits (as a worker waits on its engine process), with
Dask's defaults and with the settings `liaison screen --engine dask` starts it with.

    .venv/bin/python benchmarks/dask_housekeeping.py [--seconds 20]

Prints CPU seconds per second of the task: the worker (its own getrusage), and the client
and scheduler (this process; the LocalCluster's scheduler runs in it); writes the "Dask's
housekeeping" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import time
from datetime import UTC, datetime

import dask
from distributed import Client, LocalCluster

from liaison.bulk_dask import LOCAL_CLUSTER
from screen import replace_section  # the script beside this one


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def wait(seconds: float) -> None:
    time.sleep(seconds)


def measure(config: dict[str, object], seconds: float) -> dict[str, float]:
    with (
        dask.config.set(config),
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.submit(wait, 0, pure=False).result()  # started and warm
        worker_before, here_before = sum(client.run(process_cpu).values()), process_cpu()
        client.submit(wait, seconds, pure=False).result()
        worker_after, here_after = sum(client.run(process_cpu).values()), process_cpu()
    return {
        "worker": round((worker_after - worker_before) / seconds, 4),
        "client_and_scheduler": round((here_after - here_before) / seconds, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--no-markdown", action="store_true", help="do not touch BENCHMARKS.md")
    args = parser.parse_args()
    result = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": args.seconds,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpu_seconds_per_second": {
            "dask_defaults": measure({"distributed.worker.daemon": False}, args.seconds),
            "liaison_local_cluster": measure(LOCAL_CLUSTER, args.seconds),
        },
    }
    print(json.dumps(result, indent=2))
    if not args.no_markdown:
        write_markdown(result)


def write_markdown(result: dict) -> None:
    figures = result["cpu_seconds_per_second"]

    def row(label: str, key: str) -> str:
        worker, rest = figures[key]["worker"], figures[key]["client_and_scheduler"]
        return f"| {label} | {worker:.3f} | {rest:.3f} | {worker + rest:.3f} |"

    replace_section(
        [
            "## Dask's housekeeping",
            "",
            "(written by `benchmarks/dask_housekeeping.py`)",
            "",
            f"Run of {result['started']}, load average {result['load_average_1min']} (shared "
            f"machine). A one-worker LocalCluster runs a task that waits {result['seconds']:.0f} "
            "s, as a worker waits on its engine process; the CPU its processes use meanwhile is "
            "Dask's own, paid for every second a job runs. With Dask's defaults the worker's "
            "statistical profiler samples stacks every 10 ms, the event-loop tick runs every 20 "
            "ms and the system monitor every 500 ms; the Dask engine's LocalCluster "
            "(`bulk_dask.LOCAL_CLUSTER`) turns the profiler off and ticks every 1 s and 5 s.",
            "",
            "| configuration | worker, CPU-s per s | client and scheduler, CPU-s per s | total |",
            "| --- | ---: | ---: | ---: |",
            row("Dask's defaults", "dask_defaults"),
            row("the Dask engine's LocalCluster", "liaison_local_cluster"),
            "",
        ]
    )


if __name__ == "__main__":
    main()

"""What Dask's own housekeeping costs while a job runs: the CPU a one-worker LocalCluster's
processes use during a task that waits (as a worker waits on its engine process), with
Dask's defaults and with the settings `liaison screen --engine dask` starts it with.

    .venv/bin/python benchmarks/dask_housekeeping.py [--seconds 20]

Prints CPU seconds per second of the task: the worker (its own getrusage), and the client
and scheduler (this process; the LocalCluster's scheduler runs in it).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import time

import dask
from distributed import Client, LocalCluster

from liaison.bulk_dask import LOCAL_CLUSTER


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
    args = parser.parse_args()
    result = {
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpu_seconds_per_second": {
            "dask_defaults": measure({"distributed.worker.daemon": False}, args.seconds),
            "liaison_local_cluster": measure(LOCAL_CLUSTER, args.seconds),
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

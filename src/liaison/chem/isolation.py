"""Warm worker processes that run the engine where a crash or a stall cannot reach the caller.

RDKit is C++: a pathological structure can crash it (SIGSEGV) or hold it for minutes. Each
worker is a process that serves items one after another over a pipe and answers each one
as it is done; the caller waits at most the time limit per item. A worker that crashes or
runs past the limit is killed and replaced, its item answered by `on_failure`, and the rest
of the batch goes to the new worker: one bad record costs only itself.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

from liaison.lifetime import die_with_parent

Item = TypeVar("Item")
READY = "ready"
# How long a new worker may take to import RDKit and load the rules on a loaded machine.
WARM_UP_SECONDS = 120.0
# Answers go back in lists (a pipe message per record would cost more than a record's
# screening). The caller waits up to the time limit for each message, so a list is sent
# once this share of the limit has passed: an item that takes less than the rest of the
# limit never looks like a stall (one that does is run again alone, with the whole limit).
# Sooner costs the caller a wake-up per few records: at 0.01 s, ~20 records a message on a
# loaded machine, the receiving thread's poll and recv cost ~0.1x of a parse per record.
FLUSH_SHARE = 0.1
Result = TypeVar("Result")


@dataclass(frozen=True)
class Failure:
    """Why a worker gave no answer for an item: it crashed, timed out or raised."""

    reason: str


def _serve(connection: Connection, warm_up: Callable[[], object] | None) -> None:
    """The worker's loop: (function, items, batch, flush) in; (ok, result or message) per
    item out, sent in lists of up to `batch`, or sooner when `flush` seconds have passed."""
    # A caller killed outright never closes the pipe for us: siblings forked after this
    # worker hold copies of its end. Die with the parent (the server, or its forkserver).
    die_with_parent(signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before the line above took effect
        return
    if warm_up is not None:
        warm_up()
    # What the worker inherited (the caller's whole heap when forked) and what warm-up built
    # is kept for the worker's life: out of the collector's reach, so collections scan only
    # what records make, and do not copy every inherited page by writing to it.
    gc.freeze()
    connection.send(READY)  # the time limit counts from here, not from the warm-up
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):  # the caller is gone
            return
        if message is None:
            return
        function, items, batch, flush = message
        replies: list[tuple[bool, Any]] = []
        flushed = time.monotonic()
        for item in items:
            try:
                replies.append((True, function(item)))
            except Exception as error:  # one record, one reason; the worker lives on
                replies.append((False, f"{type(error).__name__}: {error}"))
            if len(replies) >= batch or time.monotonic() - flushed >= flush:
                connection.send(replies)
                replies, flushed = [], time.monotonic()
        if replies:
            connection.send(replies)


class _Worker:
    def __init__(self, context: BaseContext, warm_up: Callable[[], object] | None) -> None:
        self.connection, child = multiprocessing.Pipe()
        self.process: BaseProcess = context.Process(  # type: ignore[attr-defined]
            target=_serve, args=(child, warm_up), daemon=True
        )
        self.process.start()
        child.close()
        self.ready = False

    def wait_ready(self) -> bool:
        """Wait for the warm-up to finish; False when the worker died or hung in it."""
        if not self.ready:
            try:
                self.ready = bool(
                    self.connection.poll(WARM_UP_SECONDS) and self.connection.recv() == READY
                )
            except (EOFError, OSError):
                return False
        return self.ready

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.connection.close()

    def death(self) -> str:
        self.process.join(1)
        code = self.process.exitcode
        if code is not None and code < 0:
            try:
                return f"the worker was killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"the worker was killed by signal {-code}"
        return f"the worker exited with status {code}"


class WorkerPool(Generic[Item, Result]):
    """`size` warm workers; `run` is thread-safe and may be called by many threads at once
    (each call takes one idle worker for its whole batch)."""

    def __init__(
        self,
        size: int,
        seconds: float,
        on_failure: Callable[[Item, Failure], Result],
        *,
        warm_up: Callable[[], object] | None = None,
        start_method: str = "forkserver",
        replace_method: str | None = None,
    ) -> None:
        """replace_method: how workers started after a crash or a stall are made, when not
        as the first ones (a server forks its first workers before it runs threads, and
        later ones through a forkserver)."""
        self.seconds = seconds
        self._flush = seconds * FLUSH_SHARE
        self._on_failure = on_failure
        self._warm_up = warm_up
        self._context = multiprocessing.get_context(start_method)
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(size):
            self._give_back(self._spawn())
        if replace_method is not None:
            self._context = multiprocessing.get_context(replace_method)

    def _spawn(self) -> _Worker:
        worker = _Worker(self._context, self._warm_up)
        with self._lock:
            self._all.append(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        worker.stop()
        with self._lock:
            self._all.remove(worker)

    def _replace(self, worker: _Worker | None) -> _Worker:
        """A ready worker in place of `worker` (dead, or None when it was retired already)."""
        if worker is not None:
            self._retire(worker)
        fresh = self._spawn()
        if not fresh.wait_ready():
            reason = fresh.death()
            self._retire(fresh)
            raise RuntimeError(f"an engine worker did not start: {reason}")
        return fresh

    def _give_back(self, worker: _Worker) -> None:
        self._idle.put(worker)

    def run(
        self, function: Callable[[Item], Result], items: Sequence[Item], *, batch: int = 1
    ) -> list[Result]:
        """function(item) for each item, in order, in one worker; a crash or a stall past the
        time limit answers that item with on_failure and goes on in a fresh worker.

        With batch > 1 answers come back in lists, and a failure does not say which item of
        the unanswered ones caused it: those are run again one by one in a fresh worker, so
        the failure is pinned on its own item (a stall is then waited for twice)."""
        if self._closed:
            raise RuntimeError("the worker pool is closed")
        worker: _Worker | None = self._idle.get()
        results: list[Result] = []
        strict = batch <= 1
        try:
            while len(results) < len(items):
                if worker is None or not worker.wait_ready():
                    worker = self._replace(worker)
                size = 1 if strict else batch
                try:
                    message = (function, list(items[len(results) :]), size, self._flush)
                    worker.connection.send(message)
                except OSError:  # died while idle (killed from outside): replace, try again
                    self._retire(worker)
                    worker = None
                    continue
                while len(results) < len(items):
                    reply = self._receive(worker)
                    if isinstance(reply, Failure):
                        self._retire(worker)
                        worker = None
                        if strict:
                            results.append(self._on_failure(items[len(results)], reply))
                            strict = batch <= 1
                        else:
                            strict = True  # find the item: again, one by one
                        break
                    for ok, value in reply:
                        item = items[len(results)]
                        if not ok:
                            value = self._on_failure(
                                item, Failure(f"identification failed: {value}")
                            )
                        results.append(value)
        finally:
            if self._closed and worker is not None:
                self._retire(worker)
            elif worker is not None:
                self._give_back(worker)
            elif not self._closed:
                self._give_back(self._spawn())
        return results

    def _receive(self, worker: _Worker) -> list[tuple[bool, Any]] | Failure:
        try:
            if not worker.connection.poll(self.seconds):
                return Failure(
                    f"identification timed out after {self.seconds:g} s "
                    f"(limit seconds={self.seconds:g})"
                )
            replies: list[tuple[bool, Any]] = worker.connection.recv()
            return replies
        except (EOFError, OSError):
            return Failure(f"identification failed: {worker.death()}")

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.stop()

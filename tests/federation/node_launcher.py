"""Starts the tests' `liaison serve` processes by forking them from this one, which imported
the server's code once: a new interpreter and those imports cost a node about two CPU
seconds, a fork a few milliseconds. The child then runs the CLI exactly as `liaison serve`
does, in a process of its own, with the environment and log it was given.

Run by federation.nodes.NodeLauncher; one JSON request a line on standard input, one JSON
answer a line on standard output:
  {"serve": [arguments], "env": {...}, "log": path}  ->  {"pid": n}
  {"ended": n}  ->  {"code": its exit status, or null while it runs}
Ends with its standard input (the test process gone); what it started dies with it.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from types import FrameType
from typing import Any, NoReturn

import liaison.web.app  # noqa: F401  # the imports every node would otherwise repeat
from liaison.cli import main
from liaison.lifetime import die_with_parent

ENDED: dict[int, int] = {}  # pid -> exit status, of the children reaped


def reap(_signum: int, _frame: FrameType | None) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        ENDED[pid] = os.waitstatus_to_exitcode(status)


def serve(arguments: list[str], env: dict[str, str], log: str) -> NoReturn:
    """In the forked child: become `liaison serve` (never returns to the request loop)."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the node waits for its own children
    die_with_parent(signal.SIGTERM)
    output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.close(nothing)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = ["liaison", *arguments]
    code: Any = 0
    try:
        main(arguments)
    except SystemExit as stop:
        code = stop.code
    raise SystemExit(code)


def answer(request: dict[str, Any]) -> dict[str, Any]:
    if "ended" in request:
        return {"code": ENDED.get(int(request["ended"]))}
    pid = os.fork()
    if pid == 0:
        serve(list(request["serve"]), dict(request["env"]), str(request["log"]))
    return {"pid": pid}


def run() -> None:
    signal.signal(signal.SIGCHLD, reap)
    for line in sys.stdin:
        print(json.dumps(answer(json.loads(line))), flush=True)


if __name__ == "__main__":
    run()

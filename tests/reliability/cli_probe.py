"""Run many gan_zoo console-script command lines, each in its own forked process (the imports are paid once):
``python -m tests.reliability.cli_probe cases.json`` prints, as JSON, ``[{"rc", "stderr"}]`` per case.

A case is ``{"argv": [script, *args], "env": {...}}``; ``script`` is a key of :data:`gan_zoo.cli.SCRIPTS`. Each
child runs ``gan_zoo.cli.main`` exactly as ``python -m gan_zoo.cli <script> <args>`` would, stderr captured."""

from __future__ import annotations

import json
import os
import sys

import pytorch_lightning  # noqa: F401  (imported once, before forking)
import torch  # noqa: F401

import gan_zoo.cli


def run_case(case: dict) -> dict:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one console-script run
        os.close(read)
        os.dup2(write, 2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.environ.update(case.get("env", {}))
        for key in case.get("unset", []):
            os.environ.pop(key, None)
        sys.argv = ["python -m gan_zoo.cli", *case["argv"]]
        code = 0
        try:
            gan_zoo.cli.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(code)
    os.close(write)
    chunks = []
    while True:
        chunk = os.read(read, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    return {"rc": os.waitstatus_to_exitcode(status), "stderr": b"".join(chunks).decode(errors="replace")}


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    print(json.dumps([run_case(c) for c in cases]))

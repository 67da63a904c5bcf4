"""What a resumed run keeps: its history (metrics.csv rows), its directory (wherever it now lives), and the
overrides it was resumed with.

Lightning's CSVLogger deletes ``metrics.csv`` whenever a logger starts in a directory that holds one (a fresh
start, in Lightning's view), so every resume erased the rows of earlier sessions. :class:`HistoryCSVLogger`
appends instead: it adopts the header of the file it finds (rows are re-aligned by Lightning when new columns
appear) and, on resume, drops the rows logged after the checkpoint it resumes from (they are logged again).

Run directories are relocatable: config.yaml stores resolved absolute paths of the directory it was written in
(checkpoint dirpath, logger save dirs); :func:`relocate` rewrites every string under the old directory to the
same path under the directory the run is resumed in, so a copied or moved run writes into itself.

:func:`resume_command` is the command a stopped run prints to continue it, quoted so that it works when pasted:
a sweep's run directory (``.../budget=cpu_long,seed=0``) holds ``=`` and ``,``, which Hydra's override grammar
reads as syntax unless the value is in Hydra's own quotes as well as the shell's.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shlex
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.loggers.csv_logs import ExperimentWriter


class _AppendingWriter(ExperimentWriter):
    def _check_log_dir_exists(self) -> None:  # Lightning's deletes an existing metrics.csv
        path = Path(self.metrics_file_path)
        if path.is_file():
            with open(path, newline="") as f:
                self.metrics_keys = next(csv.reader(f), [])


class HistoryCSVLogger(CSVLogger):
    """``pytorch_lightning.loggers.CSVLogger`` that appends to an existing ``metrics.csv``."""

    @property
    def experiment(self):
        if self._experiment is None:
            os.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _AppendingWriter(log_dir=self.log_dir)
        return self._experiment


def _after(value, kimg: float) -> bool:
    try:  # loggers store kimg as float32: up to ~6e-8 relative off
        return float(value) > kimg + max(1e-6, 2e-7 * kimg)
    except (TypeError, ValueError):
        return False  # a row without a kimg (e.g. written once at the end) is kept


def truncate_history(run_dir: Path, kimg: float) -> None:
    """Drop what ``metrics.csv`` and ``metrics.jsonl`` recorded after ``kimg``: a resume from an earlier
    checkpoint logs those steps and evaluations again. Files are rewritten atomically."""
    from gan_zoo.checkpoint import write_text_atomic

    csv_path, jsonl_path = run_dir / "metrics.csv", run_dir / "metrics.jsonl"
    if csv_path.is_file():
        with open(csv_path, newline="") as f:
            reader = csv.DictReader(f)
            fields, rows = reader.fieldnames or [], list(reader)
        keep = [r for r in rows if not _after(r.get("kimg"), kimg)]
        if len(keep) < len(rows):
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(keep)
            write_text_atomic(csv_path, out.getvalue())
    if jsonl_path.is_file():
        lines = jsonl_path.read_text().splitlines()
        keep_lines = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                entry = {}
            if not (isinstance(entry, dict) and _after(entry.get("kimg"), kimg)):
                keep_lines.append(line)
        if len(keep_lines) < len(lines):
            write_text_atomic(jsonl_path, "".join(x + "\n" for x in keep_lines))


def saved_run_dir(saved: DictConfig) -> str | None:
    """The directory a saved config was written in: the parent of its checkpoint directory."""
    dirpath = OmegaConf.select(saved, "callbacks.checkpoint.dirpath", default=None)
    return str(Path(dirpath).parent) if isinstance(dirpath, str) else None


def relocate(cfg: DictConfig, old: str | Path | None, new: Path) -> DictConfig:
    """``cfg`` (resolved) with every string that is ``old`` or lies under it moved to the same place under ``new``."""
    if not old or str(Path(old)) == str(new):
        return cfg
    old_s, new_s = str(Path(old)), str(new)

    def move(node):
        if isinstance(node, dict):
            return {k: move(v) for k, v in node.items()}
        if isinstance(node, list):
            return [move(v) for v in node]
        if isinstance(node, str) and (node == old_s or node.startswith(old_s + os.sep)):
            return new_s + node[len(old_s):]
        return node

    return OmegaConf.create(move(OmegaConf.to_container(cfg, resolve=False)))


# characters Hydra reads as part of an unquoted override value (its grammar's ID/UNQUOTED_CHAR, less the few that
# start an interpolation or a glob); anything else (= , [ ] { } ( ) ' " \\ space ...) needs Hydra's quotes
_PLAIN_VALUE = re.compile(r"[\w./:~+@%-]+")


def hydra_value(text: str) -> str:
    """``text`` as a Hydra override value that parses back to exactly ``text`` (a quoted string when needed).
    In Hydra's quoted strings a backslash escapes only a quote or the backslashes before one (and at the end)."""
    if _PLAIN_VALUE.fullmatch(text):
        return text
    body = re.sub(r"(\\*)'", lambda m: m.group(1) * 2 + "\\'", text)
    body = re.sub(r"(\\+)$", lambda m: m.group(1) * 2, body)
    return f"'{body}'"


def resume_command(run_dir: str | Path) -> str:
    """The shell command that continues the run in ``run_dir``, safe to paste whatever its path holds."""
    arg = f"resume={hydra_value(str(run_dir))}"
    if arg == shlex.quote(arg):
        return f"gan-zoo-train {arg}"
    if not re.search(r'["$`\\!]', arg):  # nothing the shell expands inside double quotes: the readable form
        return f'gan-zoo-train "{arg}"'
    return f"gan-zoo-train {shlex.quote(arg)}"

"""Read a wandb offline run file (``run-<id>.wandb``) without the network: its records, as wandb writes them.

The file is wandb's LevelDB-log format: a 7-byte header (``:W&B``, magic 0xBEE1, version 0), then 32 KiB
blocks of chunks, each ``crc32 (4) | length (2) | type (1) | data`` with types FULL 1, FIRST 2, MIDDLE 3,
LAST 4, a block's tail shorter than a chunk header zero-padded. Each record is a protobuf
``wandb_internal_pb2.Record``.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

from wandb.proto import wandb_internal_pb2 as pb

BLOCK, HEADER = 32768, 7


def records(path: Path) -> list:
    data = Path(path).read_bytes()
    ident, magic, version = struct.unpack("<4sHB", data[:HEADER])
    assert (ident, magic, version) == (b":W&B", 0xBEE1, 0), f"{path}: not a wandb run file"
    out, pos, pending = [], HEADER, b""
    while pos + HEADER <= len(data):
        left = BLOCK - pos % BLOCK
        if left < HEADER:
            pos += left
            continue
        _, length, kind = struct.unpack("<IHB", data[pos : pos + HEADER])
        if kind == 0 and length == 0:  # padding
            pos += left
            continue
        chunk = data[pos + HEADER : pos + HEADER + length]
        pos += HEADER + length
        pending = chunk if kind in (1, 2) else pending + chunk
        if kind in (1, 4):
            record = pb.Record()
            record.ParseFromString(pending)
            out.append(record)
    return out


@dataclass
class OfflineRun:
    """What a test asks of a run: group, job type, tags, config, history rows, summary, metric definitions."""

    group: str = ""
    job_type: str = ""
    tags: list[str] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)  # name or glob -> step_metric


def _items(items) -> dict:
    return {(i.key or "/".join(i.nested_key)): json.loads(i.value_json) for i in items}


def read_offline_run(run_dir: Path) -> OfflineRun:
    (path,) = sorted(Path(run_dir).glob("wandb/offline-run-*/run-*.wandb"))
    run = OfflineRun()
    for record in records(path):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run.group, run.job_type, run.tags = record.run.run_group, record.run.job_type, list(record.run.tags)
            run.config.update({i.key: json.loads(i.value_json) for i in record.run.config.update})
        elif kind == "config":
            run.config.update({i.key: json.loads(i.value_json) for i in record.config.update})
        elif kind == "history":
            run.history.append(_items(record.history.item))
        elif kind == "summary":
            run.summary.update(_items(record.summary.update))
        elif kind == "metric":
            run.metrics[record.metric.name or record.metric.glob_name] = record.metric.step_metric
    return run

"""Images/s of the data pipeline alone: torch DataLoader over a gan_zoo dataset, no model.

Access pattern as in training: shuffled (RandomSampler, seeded, a new permutation per pass), batch 64,
default collate, drop_last; num_workers 0 and 2. Datasets:
- ``cifar10``: a CIFAR-10-format fixture of 50k random images written in the real pickle format
  (5 batches of 10k, ``cifar-10-batches-py``), loaded by :func:`gan_zoo.data.cifar10.cifar10`;
- ``stacked_fmnist``: StackedMNIST (128k) built from Debian's Fashion-MNIST at 32 px.
For scale, ``numpy_gather`` is the same shuffled batches taken by one fancy-index per batch (no DataLoader).

Run: ``python benchmarks/bench_loader.py [--seconds 4]``; writes benchmarks/results/loader.json.
The machine's load average is recorded: other jobs on shared cores lower the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, RandomSampler

from gan_zoo.data.cifar10 import cifar10
from gan_zoo.data.stacked_mnist import stacked_mnist

BATCH = 64
RESULTS = Path(__file__).resolve().parent / "results" / "loader.json"


def write_cifar_fixture(root: Path, n_per_batch: int = 10_000, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        entry = {
            "batch_label": name,
            "labels": rng.integers(0, 10, n_per_batch).tolist(),
            "data": rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8),
            "filenames": [f"{i}.png" for i in range(n_per_batch)],
        }
        with open(folder / name, "wb") as f:
            pickle.dump(entry, f, protocol=2)


def loader_rate(dataset, num_workers: int, seconds: float, warmup: int = 20) -> dict:
    # successive fresh permutations (num_samples > len), like training's endless stream of epochs
    sampler = RandomSampler(dataset, num_samples=10**9, generator=torch.Generator().manual_seed(0))
    loader = DataLoader(dataset, batch_size=BATCH, sampler=sampler, num_workers=num_workers, drop_last=True)
    it = iter(loader)
    for _ in range(warmup):  # worker start-up and first-touch excluded
        x, _ = next(it)
    assert x.dtype == torch.uint8
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        next(it)
        n += BATCH
    elapsed = time.perf_counter() - start
    del it
    return {"images_per_s": round(n / elapsed), "images": n, "seconds": round(elapsed, 2)}


def gather_rate(dataset, seconds: float) -> dict:
    images, labels = dataset.images, dataset.labels
    perm = np.random.default_rng(0).permutation(len(images))
    n, start, i = 0, time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        idx = np.sort(perm[i : i + BATCH]) if i + BATCH <= len(perm) else perm[:BATCH]
        torch.from_numpy(images[idx]), torch.from_numpy(labels[idx])
        i, n = (i + BATCH) % len(perm), n + BATCH
    elapsed = time.perf_counter() - start
    return {"images_per_s": round(n / elapsed), "images": n, "seconds": round(elapsed, 2)}


def measure(name: str, build, seconds: float) -> dict:
    start = time.perf_counter()
    dataset = build()
    built = time.perf_counter() - start
    result = {"summary": dataset.info.summary(), "build_seconds": round(built, 2), "batch_size": BATCH}
    for workers in (0, 2):
        result[f"num_workers_{workers}"] = loader_rate(dataset, workers, seconds)
        print(f"{name}: num_workers={workers}: {result[f'num_workers_{workers}']['images_per_s']} img/s")
    result["numpy_gather"] = gather_rate(dataset, seconds)
    print(f"{name}: numpy gather: {result['numpy_gather']['images_per_s']} img/s (build {built:.2f} s)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="timed seconds per configuration")
    parser.add_argument("--fashion-mnist", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    torch.set_num_threads(1)
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_before": os.getloadavg(),
            "python": platform.python_version(),
            "torch": torch.__version__,
        },
        "access": "RandomSampler (seeded, fresh permutation per pass) + default collate, batch 64, drop_last",
    }
    with tempfile.TemporaryDirectory() as tmp:
        write_cifar_fixture(Path(tmp))
        report["cifar10_fixture_50k"] = measure(
            "cifar10", lambda: cifar10(tmp, verify_md5=False, xflip=True), args.seconds
        )
    report["stacked_fmnist_32px"] = measure(
        "stacked_fmnist",
        lambda: stacked_mnist(args.fashion_mnist, family="fmnist", num_images=128_000, resolution=32),
        args.seconds,
    )
    report["machine"]["loadavg_after"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

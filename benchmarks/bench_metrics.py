"""Speed of gan_zoo's metric paths, measured in one run on one machine.

1. Features/s of in-process evaluation: generator -> uint8 -> Inception (torch-fidelity's net) in batches, no
   files (what MetricsCallback does), versus torch-fidelity reading the same samples from PNG files
   (``torch_fidelity.calculate_metrics(input1=<dir>)``, IS only so the metric itself costs nothing), the PNG
   writing timed separately. The Inception has random weights (the real ones cannot be downloaded here):
   the speed is the same, the values are meaningless.
2. Seconds for the Fréchet distance at d = 2048 (stats of n = 4096 random ReLU features per side): gan_zoo's
   symmetric eigen route (float64) versus ``scipy.linalg.sqrtm`` (pytorch-fid's route) and
   torch-fidelity's ``eigvals`` of the non-symmetric product; the values are compared too.

Run: ``python benchmarks/bench_metrics.py [--n 64] [--resolution 32]``;
writes benchmarks/results/metrics.json.
The machine's load average and BLAS threads are recorded: other jobs on shared cores lower the numbers, and
on a loaded 2-core machine multi-threaded OpenBLAS busy-waits (d = 2048 linear algebra ran ~10x slower with 2
BLAS threads than with ``OPENBLAS_NUM_THREADS=1`` here), so the recorded run used one BLAS thread.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.linalg
import torch
from PIL import Image
from torch import nn
from torch_fidelity.metric_fid import fid_statistics_to_metric

from gan_zoo.data.base import to_uint8
from gan_zoo.metrics.extractors import InceptionExtractor, extract_generated
from gan_zoo.metrics.fidelity import calculate_metrics, random_inception_weights
from gan_zoo.metrics.frechet import feature_stats, frechet_distance_from_stats
from gan_zoo.sampling import generate_batches

RESULTS = Path(__file__).resolve().parent / "results" / "metrics.json"


class ConvG(nn.Module):
    """A small conv generator (z 64 -> 4x4 -> upsampled to ``resolution``, RGB) standing in for G_ema."""

    def __init__(self, resolution: int):
        super().__init__()
        self.z_dim, self.c_dim, self.resolution, self.img_channels = 64, 0, resolution, 3
        layers, ch, size = [nn.Unflatten(1, (64, 4, 4))], 64, 4
        while size < resolution:
            layers += [nn.Upsample(scale_factor=2), nn.Conv2d(ch, 32, 3, padding=1), nn.LeakyReLU(0.2)]
            ch, size = 32, size * 2
        layers += [nn.Conv2d(ch, 3, 3, padding=1), nn.Tanh()]
        self.fc, self.net = nn.Linear(64, 64 * 16), nn.Sequential(*layers)

    def forward(self, z, c=None):
        return self.net(self.fc(z))


def bench_extraction(n: int, resolution: int, batch: int, weights: str) -> dict:
    G = ConvG(resolution).eval()
    ext = InceptionExtractor(weights)
    extract_generated(G, ext, batch, batch, seed=1)  # warm-up (oneDNN kernel selection)
    t0 = time.perf_counter()
    feats = extract_generated(G, ext, n, batch, seed=0)["pool"]
    in_process = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        i = 0
        for x, _ in generate_batches(G, n, batch, seed=0):
            for img in to_uint8(x).permute(0, 2, 3, 1).numpy():
                Image.fromarray(img).save(Path(tmp) / f"{i:06d}.png")
                i += 1
        write = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = calculate_metrics(
            input1=tmp,
            isc=True,
            isc_splits=2,
            batch_size=batch,
            cache=False,
            feature_extractor_weights_path=weights,
        )
        read = time.perf_counter() - t0
    assert feats.shape == (n, 2048) and np.isfinite(out["inception_score_mean"])
    return {
        "n": n,
        "resolution": resolution,
        "batch": batch,
        "in_process_s": round(in_process, 2),
        "in_process_features_per_s": round(n / in_process, 2),
        "png_write_s": round(write, 2),
        "torch_fidelity_png_s": round(read, 2),
        "torch_fidelity_png_features_per_s": round(n / read, 2),
        "png_write_plus_read_features_per_s": round(n / (write + read), 2),
        "speedup_vs_png_read": round(read / in_process, 2),
        "speedup_vs_png_write_plus_read": round((write + read) / in_process, 2),
    }


def bench_frechet(d: int = 2048, n: int = 4096, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((d, d)) / np.sqrt(d)
    s1 = feature_stats(np.maximum(rng.standard_normal((n, d)) @ mix, 0))
    s2 = feature_stats(np.maximum(rng.standard_normal((n, d)) @ mix + 0.05, 0))
    out = {"d": d, "n_per_side": n}
    t0 = time.perf_counter()
    ours = frechet_distance_from_stats(*s1, *s2)  # S1 positive definite here: the Cholesky factor
    out["gan_zoo_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    ours_eigh = frechet_distance_from_stats(*s1, *s2, method="eigh")  # the S1^(1/2) route (singular S1)
    out["gan_zoo_eigh_s"] = round(time.perf_counter() - t0, 2)
    out["rel_diff_cholesky_vs_eigh"] = abs(ours_eigh - ours) / ours
    t0 = time.perf_counter()
    covmean = scipy.linalg.sqrtm(s1[1] @ s2[1])
    diff = s1[0] - s2[0]
    sqrtm_fd = float(diff @ diff + np.trace(s1[1]) + np.trace(s2[1]) - 2 * np.trace(covmean).real)
    out["scipy_sqrtm_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    tf_fd = fid_statistics_to_metric({"mu": s1[0], "sigma": s1[1]}, {"mu": s2[0], "sigma": s2[1]}, False)
    out["torch_fidelity_eigvals_s"] = round(time.perf_counter() - t0, 2)
    tf_fd = tf_fd["frechet_inception_distance"]
    out.update(
        {
            "fd_gan_zoo": ours,
            "fd_scipy_sqrtm": sqrtm_fd,
            "fd_torch_fidelity": tf_fd,
            "rel_diff_sqrtm": abs(sqrtm_fd - ours) / ours,
            "rel_diff_torch_fidelity": abs(tf_fd - ours) / ours,
            "speedup_vs_sqrtm": round(out["scipy_sqrtm_s"] / max(out["gan_zoo_s"], 1e-9), 1),
            "speedup_vs_eigvals": round(out["torch_fidelity_eigvals_s"] / max(out["gan_zoo_eigh_s"], 1e-9), 1),
        }
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=64, help="generated samples for the extraction comparison")
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        weights = str(random_inception_weights(Path(tmp) / "random-inception.pth"))
        extraction = bench_extraction(args.n, args.resolution, args.batch, weights)
    frechet = bench_frechet()
    from threadpoolctl import threadpool_info

    blas_threads = sorted({p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"})
    result = {
        "machine": {
            "blas_threads": blas_threads,
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "load_avg_before": load_before,
            "load_avg_after": os.getloadavg(),
        },
        "extraction_inception_random_weights": extraction,
        "frechet_distance": frechet,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""How well InfoGAN's categorical code controls the class of a generated digit (Chen et al., "InfoGAN",
NeurIPS 2016, Sec. 7.1: on MNIST the 10-way code c_1 matches the digit class with a 5 % error rate).

For each of the K values of the code, ``n`` samples are drawn with that code and fresh noise: the code is
``k = floor(K * Phi(z_0))`` (:func:`gan_zoo.tricks.infogan.codes_of`), so z_0 is set to ``Phi^-1((k + 1/2) / K)``
and every other coordinate of z is N(0, 1). A pretrained digit classifier (the project's, on the 8x8
scikit-learn digits: :mod:`gan_zoo.metrics.classifier`) labels each sample, which gives a K x C confusion
matrix ``M[k, c]``. The code is unsupervised, so which code means which class is arbitrary; the accuracy is
the one under the best one-to-one assignment of codes to classes (the Hungarian method,
``scipy.optimize.linear_sum_assignment`` on ``-M``), as in the unsupervised-clustering accuracy InfoGAN quotes:

    acc = max_{pi one-to-one} sum_k M[k, pi(k)] / sum M.

Two controls make the number mean something:

- ``shuffled``: the same samples with their codes permuted at random (fixed seed) -> the accuracy a
  generator reaches whose class does not depend on the code (about the largest class share, ~ 1/C);
- ``--control RUN``: the same measurement on another run, e.g. the same model trained with
  ``trick.infogan.weight=0`` (codes fed to G, but no mutual-information term).

    python -m gan_zoo.report.infogan_control RUN_DIR [--control RUN_DIR] [--n 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from gan_zoo.errors import ConfigError, GanZooError


def code_latents(n: int, z_dim: int, categories: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` latents per code value: ``(z [K*n, z_dim], code [K*n])`` with ``codes_of(z)[0] == code``."""
    gen = torch.Generator().manual_seed(int(seed))
    code = torch.arange(categories).repeat_interleave(n)
    z = torch.randn(len(code), z_dim, generator=gen)
    z[:, 0] = torch.special.ndtri((code.double() + 0.5) / categories).float()
    return z, code


def best_assignment_accuracy(confusion: np.ndarray) -> tuple[float, list[int]]:
    """Accuracy of the best one-to-one code -> class map of a K x C count matrix, and that map (code k ->
    class ``mapping[k]``; -1 for a code left without a class when K > C)."""
    from scipy.optimize import linear_sum_assignment

    m = np.asarray(confusion, dtype=np.float64)
    if m.ndim != 2 or m.sum() <= 0:
        raise ConfigError(f"confusion matrix must be 2-D with counts, got shape {m.shape} sum {m.sum()}")
    rows, cols = linear_sum_assignment(-m)
    mapping = [-1] * m.shape[0]
    for r, c in zip(rows, cols):
        mapping[int(r)] = int(c)
    return float(m[rows, cols].sum() / m.sum()), mapping


def confusion_matrix(code: np.ndarray, label: np.ndarray, categories: int, classes: int) -> np.ndarray:
    m = np.zeros((categories, classes), dtype=np.int64)
    np.add.at(m, (np.asarray(code), np.asarray(label)), 1)
    return m


def infogan_categories(cfg) -> int:
    trick = (cfg.get("trick") or {}).get("infogan")
    if not trick or int(trick.get("categories", 0)) < 2:
        raise ConfigError("infogan_control needs a run trained with trick=[infogan] and "
                          "trick.infogan.categories >= 2 (its config has none)")
    return int(trick["categories"])


@torch.no_grad()
def classify_codes(G: torch.nn.Module, classifier, categories: int, n: int, seed: int = 0,
                   batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """``(code [K*n], predicted class [K*n])`` for ``n`` samples per code value of G (a CodedGenerator).
    Grey RGB samples: the classifier's logits are averaged over the three channels."""
    from gan_zoo.data.base import to_uint8

    z, code = code_latents(n, G.z_dim, categories, seed)
    preds = []
    for i in range(0, len(z), batch_size):
        x = to_uint8(G(z[i : i + batch_size], None))
        preds.append(classifier(x)["logits"].mean(1).argmax(1))
    return code.numpy(), torch.cat(preds).numpy()


def measure(G: torch.nn.Module, categories: int, classifier, n: int = 200, seed: int = 0) -> dict:
    """The code-control accuracy of G and of its shuffled-code control (module docstring)."""
    from gan_zoo.standing_stats import accumulate_standing_stats

    accumulate_standing_stats(G, seed=seed)  # BN G: evaluation statistics as everywhere else in gan_zoo
    code, pred = classify_codes(G, classifier, categories, n, seed)
    classes = int(classifier.net.num_classes)
    conf = confusion_matrix(code, pred, categories, classes)
    acc, mapping = best_assignment_accuracy(conf)
    shuffled = np.random.default_rng(seed).permutation(code)
    acc_shuffled, _ = best_assignment_accuracy(confusion_matrix(shuffled, pred, categories, classes))
    return {"accuracy": acc, "shuffled_accuracy": acc_shuffled, "mapping": mapping,
            "confusion": conf.tolist(), "samples_per_code": int(n),
            "class_share_max": float(np.bincount(pred, minlength=classes).max() / len(pred))}


def measure_run(run: str | Path, n: int = 200, seed: int = 0, classifier: str = "digits",
                cache_dir: str | None = None) -> dict:
    from gan_zoo.checkpoint import load_run
    from gan_zoo.metrics.extractors import ClassifierExtractor

    handle = load_run(run)
    result = measure(handle.G_ema, infogan_categories(handle.cfg), ClassifierExtractor(classifier, cache_dir), n, seed)
    weight = float(handle.cfg.trick.infogan.get("weight", 1.0))
    return {"run": str(run), "kimg": handle.kimg, "info_weight": weight, **result}


def _line(name: str, r: dict) -> str:
    return (f"{name}: code -> class accuracy {100 * r['accuracy']:.1f} % (best one-to-one map "
            f"{r['mapping']}), shuffled codes {100 * r['shuffled_accuracy']:.1f} %, largest class share "
            f"{100 * r['class_share_max']:.1f} %, MI weight {r['info_weight']:g}, {r['kimg']:.1f} kimg, "
            f"{r['samples_per_code']} samples/code")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan_zoo.report.infogan_control",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="run directory or .ckpt of an InfoGAN run")
    parser.add_argument("--control", type=Path, default=None, help="a control run (e.g. trick.infogan.weight=0)")
    parser.add_argument("--n", type=int, default=200, help="samples per code value")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--classifier", default="digits", help="cached classifier name (gan_zoo.metrics.classifier)")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    try:
        out = {"infogan": measure_run(args.run, args.n, args.seed, args.classifier)}
        if args.control is not None:
            out["control"] = measure_run(args.control, args.n, args.seed, args.classifier)
    except GanZooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name, r in out.items():
        print(_line(name, r))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

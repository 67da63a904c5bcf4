"""gan-zoo-truncation-curve: fidelity against diversity over a sweep of BigGAN's truncation threshold t.

    gan-zoo-truncation-curve <run dir or .ckpt> [--t 0.25,0.5,1,1.5,2,none] [--out DIR] [key=value ...]

BigGAN (Brock et al., ICLR 2019, Sec. 3.1, Fig. 2/17, App. D): sample z from N(0, I) with every entry of
magnitude above t resampled (:func:`gan_zoo.sampling.truncated_normal`); lowering t raises fidelity (IS) and
lowers variety, so FID first improves a little and then degrades sharply. For every t here:

1. G_ema's BatchNorm statistics are re-estimated with z truncated at that t
   (:func:`gan_zoo.standing_stats.accumulate_standing_stats`; BigGAN-PyTorch instead keeps the z_var = 1
   statistics for every point of its curve);
2. the run's metrics are evaluated on truncated samples (:class:`gan_zoo.metrics.callback.MetricEvaluator`,
   ``key=value`` overrides its options as in gan-zoo-eval; the real reference comes from the run's cache);
3. with a digit/fashion classifier on stacked data, an Inception-Score analogue on the classifier
   ``is[classifier:<name>]`` = exp E_x KL(p(y|x) || p(y)) over the 1000 stacked classes (channels
   independent), the fidelity axis where Inception weights are not available. NOT the paper's IS.

Writes ``<out>/truncation.md``, ``truncation.csv`` and ``truncation.png`` (metrics against t, and the
fidelity-diversity curve); default ``<out>`` is ``<run_dir>/truncation``.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

import torch
from torch import nn

from gan_zoo.errors import ConfigError, GanZooError
from gan_zoo.sampling import truncated_normal
from gan_zoo.standing_stats import accumulate_standing_stats

DEFAULT_T = "0.25,0.5,0.75,1.0,1.5,2.0,none"


class TruncatedGenerator(nn.Module):
    """``G`` that ignores the z it is given and draws z truncated at ``t`` from its own seeded stream (reset
    with :meth:`reset`), keeping the G contract (``z_dim``, ``c_dim``, ``resolution``, ``img_channels``)."""

    def __init__(self, G: nn.Module, t: float | None, seed: int = 0) -> None:
        super().__init__()
        self.G, self.t, self.seed = G, t, int(seed)
        for attr in ("z_dim", "c_dim", "resolution", "img_channels"):
            setattr(self, attr, getattr(G, attr, None))
        self.reset()

    def reset(self) -> None:
        self.gen = torch.Generator().manual_seed(self.seed)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        zt = truncated_normal(tuple(z.shape), self.t, self.gen).to(z.device, z.dtype)
        return self.G(zt, c)


def parse_thresholds(text: str) -> list[float | None]:
    out: list[float | None] = []
    for item in str(text).split(","):
        item = item.strip().lower()
        if item in ("none", "inf", ""):
            out.append(None)
            continue
        try:
            t = float(item)
        except ValueError:
            raise ConfigError(f"--t {text}: {item!r} is not a number; give e.g. --t 0.5,1,2,none") from None
        if not t > 0:
            raise ConfigError(f"--t {text}: thresholds must be > 0 (none = no truncation)")
        out.append(t)
    return out


@torch.no_grad()
def classifier_inception_score(G: nn.Module, extractor, n: int, batch_size: int, seed: int) -> float:
    """exp E_x KL(p(y|x) || p(y)) with ``p(y|x)`` the product of the classifier's per-channel softmaxes (module
    docstring, step 3), on ``n`` samples of ``G`` (class labels as the metrics use them)."""
    from gan_zoo.data.base import to_uint8
    from gan_zoo.metrics.extractors import generated_batches

    logs = []
    for x in generated_batches(G, n, batch_size, seed):
        lp = torch.log_softmax(extractor(to_uint8(x))["logits"].double(), dim=-1)  # [B, C, K]
        joint = lp[:, 0]
        for k in range(1, lp.shape[1]):
            joint = (joint[:, :, None] + lp[:, k, None, :]).flatten(1)
        logs.append(joint)
    lp = torch.cat(logs)  # [N, K^C]
    log_marginal = torch.logsumexp(lp, dim=0) - math.log(lp.shape[0])
    kl = (lp.exp() * (lp - log_marginal)).sum(dim=1).mean()
    return float(kl.exp())


def truncation_curve(run, thresholds: list[float | None], overrides: dict, passes: int = 16,
                     batch_size: int = 64) -> list[dict]:
    """One row per threshold: ``{"t": t, <metric>: value, ...}`` for a :class:`~gan_zoo.checkpoint.RunHandle`."""
    from gan_zoo.evaluate import evaluator_options, reference_hints
    from gan_zoo.metrics.callback import MetricEvaluator

    options = evaluator_options(run.cfg.get("metrics"), overrides)
    try:
        evaluator = MetricEvaluator(**options)
    except TypeError as e:
        raise ConfigError(f"gan-zoo-truncation-curve: {e}; keys are MetricEvaluator's (see gan-zoo-eval)") from None

    def dataset():
        from gan_zoo.config import build

        return build(run.cfg.dataset, "dataset")

    G = run.G_ema.eval()
    device = next(G.parameters()).device
    hints = reference_hints(Path(run.run_dir))
    spec = options.get("extractor", "")
    classifier = spec if str(spec).startswith("classifier:") else None
    rows = []
    for t in thresholds:
        accumulate_standing_stats(G, passes, batch_size, truncation=t, seed=evaluator.seed, device=device)
        wrapped = TruncatedGenerator(G, t, evaluator.seed)
        row: dict = {"t": "none" if t is None else t}
        for v in evaluator.evaluate(wrapped, dataset, device=device, ref_hints=hints):
            row[v.name] = v.value
        if classifier:
            wrapped.reset()
            n = int(options.get("num_samples") or 10_000)
            row[f"is[{classifier}]"] = classifier_inception_score(
                wrapped, evaluator.extractor(classifier), n, evaluator.batch_size, evaluator.seed)
        print("truncation " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                        for k, v in row.items()), file=sys.stderr)
        rows.append(row)
    return rows


def write_outputs(rows: list[dict], out: Path, title: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)  # noqa: E731
    md = [title, "", "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    md += ["| " + " | ".join(fmt(r.get(k, "")) for k in keys) + " |" for r in rows]
    paths = [out / "truncation.md", out / "truncation.csv", out / "truncation.png"]
    paths[0].write_text("\n".join(md) + "\n")
    with paths[1].open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, keys, paths[2], title)
    return paths


def plot(rows: list[dict], keys: list[str], path: Path, title: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    metrics = [k for k in keys if k != "t"]
    finite = [r for r in rows if r["t"] != "none"]
    fig = Figure(figsize=(11, 4.2))
    FigureCanvasAgg(fig)
    ax, curve = fig.subplots(1, 2)
    ts = [float(r["t"]) for r in finite]
    for i, m in enumerate(metrics):
        axis = ax if i == 0 else ax.twinx()
        if i > 1:
            axis.spines["right"].set_position(("axes", 1 + 0.12 * (i - 1)))
        axis.plot(ts, [r.get(m) for r in finite], marker="o", color=f"C{i}", label=m)
        axis.set_ylabel(m, color=f"C{i}")
    ax.set(xlabel="truncation threshold t", title="metrics against t (no-truncation point: table)")
    fidelity = next((m for m in metrics if m.startswith("is")), None)
    diversity = next((m for m in metrics if m.split("[")[0] in ("fid", "fd")), None)
    if fidelity and diversity:
        xs, ys = [r.get(fidelity) for r in rows], [r.get(diversity) for r in rows]
        curve.plot(xs, ys, marker="o")
        for r, x, y in zip(rows, xs, ys):
            curve.annotate(f"t={r['t']}", (x, y), fontsize=7)
        curve.set(xlabel=f"{fidelity} (fidelity)", ylabel=f"{diversity} (lower: better)",
                  title="fidelity-diversity curve (BigGAN Fig. 17)")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gan-zoo-truncation-curve", description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="run directory or checkpoint")
    parser.add_argument("--t", default=DEFAULT_T, help=f"thresholds, comma-separated (default {DEFAULT_T})")
    parser.add_argument("--out", type=Path, help="output folder (default <run_dir>/truncation)")
    parser.add_argument("--passes", type=int, default=16, help="standing-statistics passes per t")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("overrides", nargs="*", help="MetricEvaluator options as key=value (as gan-zoo-eval)")
    args, rest = parser.parse_known_args(argv)  # key=value overrides may follow the options
    args.overrides = [*args.overrides, *rest]
    try:
        from gan_zoo.checkpoint import load_run
        from gan_zoo.evaluate import parse_overrides

        thresholds = parse_thresholds(args.t)
        run = load_run(args.run, device=args.device)
        rows = truncation_curve(run, thresholds, parse_overrides(args.overrides), passes=args.passes)
        title = (f"Truncation curve of {run.ckpt_path} (kimg {run.kimg:.1f}); standing statistics per t "
                 f"({args.passes} passes)")
        paths = write_outputs(rows, args.out or Path(run.run_dir) / "truncation", title)
    except GanZooError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(paths[0].read_text())
    for p in paths:
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

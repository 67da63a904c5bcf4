"""gan_zoo's R3GAN step against the official brownvc/R3GAN code, side by side in one process (gan_zoo issue 10).

What is timed (fp32, CPU, no optimizer step on either side):
- D step: RpGAN + (gamma/2)(R1 + R2) by double backprop, fakes from G under no grad, then ``backward`` —
  gan_zoo's ``AdversarialModule._d_loss`` against the official ``AdversarialTraining.
  AccumulateDiscriminatorGradients``;
- G step: RpGAN's G loss and its backward — ``_g_loss`` against ``AccumulateGeneratorGradients``;
- gan_zoo's D step without penalties (``regularizer=none``), for the penalty cost ratio, and the same plain D step
  on the official networks (``common.official_d_no_penalty``): with them the JSON states
  ``official_over_same_math_floor_dg``, the largest official/gan_zoo ratio that any implementation of the same
  math could reach on this machine (R1 + R2 by double backprop cost at least ~2x a plain D step);
- gan_zoo with the grouped-conv backward switched off (``GAN_ZOO_GROUPED_CONV=off``): the plain model, which
  is the "before" of the optimisation.

Each is warmed up once, then timed ``--reps`` times alternating (A, B, C, ... A, B, C, ...); min and median,
the load average before and after, and each call's peak RSS increment (Linux ``clear_refs``) are written to
``benchmarks/results/r3gan_<preset>_b<batch>.json``. The official code is imported from ``R3GAN_SRC`` (an
extracted brownvc/R3GAN, e.g. ``git archive`` of it; none of its code is part of gan_zoo); without it gan_zoo
is timed alone and the JSON says that no ratio was measured.

Run: ``R3GAN_SRC=/path/to/R3GAN python benchmarks/bench_r3gan.py [--batch 8] [--reps 3] [--threads 2]
[--profile]``; ``--smoke`` is the tiny 8 px preset at batch 2 (seconds, run by the test suite).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from gan_zoo.models import grouped_conv  # noqa: E402


def profile_d_step(fn, rows: int = 12) -> list[dict]:
    """Top ops by self CPU time of one call of ``fn``."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events) or 1
    return [{"op": e.key, "self_s": round(e.self_cpu_time_total / 1e6, 3),
             "self_pct": round(100 * e.self_cpu_time_total / total, 1), "calls": e.count} for e in events[:rows]]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="cifar10", choices=sorted(common.PRESETS))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gamma", type=float, default=0.05)
    parser.add_argument("--profile", action="store_true", help="also profile one gan_zoo D step, plain vs grouped")
    parser.add_argument("--no-plain", action="store_true", help="skip the grouped-conv-off variant")
    parser.add_argument("--smoke", action="store_true", help="tiny 8 px preset, batch 2, 1 rep, 1 thread (seconds)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.smoke:
        args.preset, args.batch, args.reps, args.threads = "tiny8", 2, 1, 1
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model_name, res = common.PRESETS[args.preset]
    cfg = common.compose_cfg(model_name, res)
    cfg_plain = common.compose_cfg(model_name, res, regularizer="none")
    zoo = common.build_module(cfg, args.batch)
    zoo_nopen = common.build_module(cfg_plain, args.batch, G=zoo.G, D=zoo.D)
    c_dim = int(cfg.model.c_dim)
    real, c = common.fixed_batch(args.batch, res, c_dim)
    zoo_d, zoo_g = common.gan_zoo_steps(zoo, real, c, args.gamma)
    nopen_d, _ = common.gan_zoo_steps(zoo_nopen, real, c, args.gamma)
    fns = {"gan_zoo_d": zoo_d, "gan_zoo_g": zoo_g, "gan_zoo_d_no_penalty": nopen_d}
    if not args.no_plain:
        fns["gan_zoo_plain_d"] = common.with_mode("off", zoo_d)
        fns["gan_zoo_plain_g"] = common.with_mode("off", zoo_g)
    src = os.environ.get("R3GAN_SRC")
    official = None
    if src:
        networks, trainer_cls = common.import_official(src)
        oG, oD = common.official_nets(networks, cfg.model)
        off_d, off_g = common.official_steps(oG, oD, trainer_cls, int(cfg.model.z_dim), real, c, args.gamma)
        fns["official_d"], fns["official_g"] = off_d, off_g
        fns["official_d_no_penalty"] = common.official_d_no_penalty(oG, oD, int(cfg.model.z_dim), real, c)
        official = {"src": src, "g_params": sum(p.numel() for p in oG.parameters()),
                    "d_params": sum(p.numel() for p in oD.parameters())}
    before = common.load()
    t0 = time.perf_counter()
    res_t = common.alternate(fns, args.reps)
    after = common.load()
    g_params, d_params = zoo.num_params()
    record = {
        "what": "one D step (RpGAN + gamma/2 (R1 + R2), backward) and one G step (RpGAN, backward), fp32 CPU, "
                "alternating in one process after one warm-up each",
        "preset": args.preset, "model": model_name, "resolution": res, "batch": args.batch, "reps": args.reps,
        "threads": args.threads, "gamma": args.gamma, "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(), "grouped_conv_mode": grouped_conv.mode(),
        "gan_zoo_params": {"g": g_params, "d": d_params}, "official": official,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "load_before": before, "load_after": after, "wall_s": round(time.perf_counter() - t0, 1),
        "timings": res_t,
    }
    t = res_t
    ratios = {}
    for key in ("min_s", "median_s", "min_cpu_s"):
        k = key[:-2]
        zoo_dg = t["gan_zoo_d"][key] + t["gan_zoo_g"][key]
        ratios[f"penalty_cost_{k}"] = round(t["gan_zoo_d"][key] / t["gan_zoo_d_no_penalty"][key], 3)
        if "gan_zoo_plain_d" in t:
            plain_dg = t["gan_zoo_plain_d"][key] + t["gan_zoo_plain_g"][key]
            ratios[f"grouped_conv_speedup_dg_{k}"] = round(plain_dg / zoo_dg, 3)
            ratios[f"grouped_conv_speedup_d_{k}"] = round(t["gan_zoo_plain_d"][key] / t["gan_zoo_d"][key], 3)
        if official:
            off_dg = t["official_d"][key] + t["official_g"][key]
            ratios[f"official_over_gan_zoo_dg_{k}"] = round(off_dg / zoo_dg, 3)
            ratios[f"official_over_gan_zoo_d_{k}"] = round(t["official_d"][key] / t["gan_zoo_d"][key], 3)
            ratios[f"official_over_gan_zoo_g_{k}"] = round(t["official_g"][key] / t["gan_zoo_g"][key], 3)
            ratios[f"official_penalty_cost_{k}"] = round(t["official_d"][key] / t["official_d_no_penalty"][key], 3)
            # The most any implementation of the same math could gain here: its D step with R1 + R2 can cost
            # no less than ~2x the cheaper plain D step (per layer one more input-gradient pass and its backward:
            # 6 units of work instead of 3), and its G step no less than the cheaper measured G step.
            floor = 2 * min(t["gan_zoo_d_no_penalty"][key], t["official_d_no_penalty"][key]) + min(
                t["gan_zoo_g"][key], t["official_g"][key])
            ratios[f"official_over_same_math_floor_dg_{k}"] = round(off_dg / floor, 3)
            for step in ("d", "g"):
                zoo_mib, off_mib = t[f"gan_zoo_{step}"]["peak_rss_mib"], t[f"official_{step}"]["peak_rss_mib"]
                if zoo_mib and off_mib:
                    ratios[f"peak_rss_official_over_gan_zoo_{step}"] = round(off_mib / zoo_mib, 3)
    record["ratios"] = ratios
    if not official:
        record["note"] = "R3GAN_SRC not set: gan_zoo timed alone, no ratio to the official code was measured"
    if args.profile:
        record["profile_d_step"] = {"plain": profile_d_step(common.with_mode("off", zoo_d)),
                                    "grouped": profile_d_step(zoo_d)}
    out = Path(args.out or f"benchmarks/results/r3gan_{args.preset}_b{args.batch}.json")
    if not args.smoke or args.out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(record, indent=1))
    print(json.dumps({k: record[k] for k in ("preset", "batch", "load_before", "load_after", "ratios")}, indent=1))
    if not official:
        print(record["note"])
    return record


if __name__ == "__main__":
    main()

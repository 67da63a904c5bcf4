"""GPU benchmark, ready to run (gan_zoo issue 10): CIFAR-10 config E at the paper's batch (512, Huang et al.
2024, Table 9 / the official CIFAR10 preset), the 3 highest-resolution stages in bf16 (the model's
``bf16_stages``), channels_last on/off x torch.compile on/off, and the grouped-conv backward on/off
(``GAN_ZOO_GROUPED_CONV``). Records img/s of one D (RpGAN + R1 + R2) + G step (backward included, no
optimizer step, as the official ``Accumulate*Gradients``) and the peak CUDA memory of each variant; the
official brownvc/R3GAN networks run beside it when ``R3GAN_SRC`` is set (their FP16Stages = bf16 in the 3
highest-resolution stages, as their train.py does for CIFAR10). Every variant is warmed up, then the variants
alternate ``--reps`` times. Writes benchmarks/results/gpu_<device>.json. Sized to finish in < 8 minutes on one
modern GPU (``--budget-s`` stops adding repetitions when the time is spent).

``--smoke`` (and any run without CUDA) is the CPU smoke mode: the tiny 8 px preset, batch 2, one repetition,
compile off, so the script is exercised by the test suite and cannot rot.

Run: ``[R3GAN_SRC=/path/to/R3GAN] python benchmarks/bench_gpu.py [--batch 512] [--reps 5]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--gamma", type=float, default=0.05)
    parser.add_argument("--budget-s", type=float, default=420.0, help="stop adding repetitions after this")
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="CPU, tiny 8 px, batch 2, 1 rep, no compile")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    t_start = time.perf_counter()
    device = "cuda" if torch.cuda.is_available() and not args.smoke else "cpu"
    smoke = args.smoke or device == "cpu"
    preset, batch, reps = ("tiny8", 2, 1) if smoke else ("cifar10", args.batch, args.reps)
    if smoke:
        torch.set_num_threads(1)
    if device == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    model_name, res = common.PRESETS[preset]
    cfg = common.compose_cfg(model_name, res)
    c_dim = int(cfg.model.c_dim)
    real, c = common.fixed_batch(batch, res, c_dim)
    real, c = real.to(device), (c.to(device) if c is not None else None)
    compiles = [False] if (smoke or args.no_compile) else [False, True]
    groupeds = ["off", "all"]
    variants = {}
    modules = {}
    for channels_last, compiled in itertools.product([False, True], compiles):
        torch.manual_seed(0)
        module = common.build_module(cfg, batch, channels_last=channels_last).to(device)
        if compiled:
            module.G.compile()
        x = real.contiguous(memory_format=torch.channels_last) if channels_last else real
        d, g = common.gan_zoo_steps(module, x, c, args.gamma)
        modules[(channels_last, compiled)] = module
        for grouped in groupeds:
            name = f"gan_zoo{'_cl' if channels_last else ''}{'_compile' if compiled else ''}_grouped-{grouped}"

            def step(d=d, g=g):
                d()
                g()
                _sync(device)

            variants[name] = common.with_mode(grouped, step)
    official = None
    src = os.environ.get("R3GAN_SRC")
    if src:
        networks, trainer_cls = common.import_official(src)
        oG, oD = common.official_nets(networks, cfg.model, device)
        if device == "cuda":  # the official CIFAR10 preset: FP16Stages G [-1, -2, -3], D [0, 1, 2], in bf16
            for i in (-1, -2, -3):
                oG.MainLayers[i].DataType = torch.bfloat16
            for i in (0, 1, 2):
                oD.MainLayers[i].DataType = torch.bfloat16
        od, og = common.official_steps(oG, oD, trainer_cls, int(cfg.model.z_dim), real, c, args.gamma)

        def official_step():
            od()
            og()
            _sync(device)

        variants["official"] = official_step
        official = {"src": src}
    timings = {name: {"times_s": [], "peak_mem_gib": None, "error": None} for name in variants}
    for name, fn in variants.items():  # warm-up (compilation, cudnn autotuning)
        try:
            fn()
            fn()
        except Exception as e:  # one failing variant (e.g. compile on this build) must not lose the others
            timings[name]["error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"
    for _ in range(reps):
        if time.perf_counter() - t_start > args.budget_s and timings[next(iter(timings))]["times_s"]:
            break
        for name, fn in variants.items():
            if timings[name]["error"]:
                continue
            if device == "cuda":
                torch.cuda.reset_peak_memory_stats()
            t = time.perf_counter()
            fn()
            timings[name]["times_s"].append(round(time.perf_counter() - t, 4))
            if device == "cuda":
                timings[name]["peak_mem_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    for r in timings.values():
        if r["times_s"]:
            r["min_s"] = min(r["times_s"])
            r["median_s"] = sorted(r["times_s"])[len(r["times_s"]) // 2]
            r["img_per_s"] = round(batch / r["min_s"], 2)
    record = {"what": "img/s of one D (RpGAN + R1 + R2) + G step, backward included, no optimizer step",
              "device": torch.cuda.get_device_name() if device == "cuda" else "cpu (smoke mode)",
              "preset": preset, "batch": batch, "bf16_stages": int(cfg.model.bf16_stages) if device == "cuda" else 0,
              "torch": torch.__version__, "official": official, "timings": timings,
              "load": common.load(), "wall_s": round(time.perf_counter() - t_start, 1)}
    if official and timings["official"].get("min_s"):
        best = min((r["min_s"], n) for n, r in timings.items() if n != "official" and r.get("min_s"))
        record["best_gan_zoo"] = best[1]
        record["official_over_best_gan_zoo"] = round(timings["official"]["min_s"] / best[0], 3)
    name = "cpu_smoke" if smoke else torch.cuda.get_device_name().replace(" ", "_")
    out = Path(args.out or f"benchmarks/results/gpu_{name}.json")
    if not smoke or args.out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(record, indent=1))
    print(json.dumps(record, indent=1))
    return record


if __name__ == "__main__":
    main()

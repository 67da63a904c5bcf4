"""The claims judged along training length (gan_zoo.report.budget): at which kimg each claim appears, with
runs stopped early counted up to where they got and diverged runs counted as diverged after their last point."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from gan_zoo.report import budget
from gan_zoo.report.claims import CONSISTENT, NOT_REPRODUCED, NOT_TESTED
from gan_zoo.report.runs import find_run_dirs, read_run

TABLE = "r3gan_loss_ablation"
KIMGS = (30.016, 60.032, 90.048)


def _run(root: Path, row: str, seed: int, modes: list[float], state: str = "finished") -> None:
    d = root / row / f"seed={seed}"
    d.mkdir(parents=True)
    cfg = {"name": row, "seed": seed, "total_kimg": 90, "batch_size": 64, "table": {"name": TABLE, "row": row},
           "budget": {"name": "cpu_long"}, "dataset": {"_target_": "gan_zoo.data.stacked_mnist.StackedDigits",
                                                        "resolution": 8},
           "metrics": {"primary": ["modes", "kl"]}}
    (d / "config.yaml").write_text(yaml.safe_dump(cfg))
    (d / "status.json").write_text(json.dumps({"state": state, "g_params": 146000, "d_params": 142000}))
    lines = []
    for k, m in zip(KIMGS, modes):
        wall = k * 3600 / 300  # 300 kimg per hour
        lines.append({"metric": "modes[classifier:digits]", "value": m, "kimg": k, "wall_clock_s": wall})
        lines.append({"metric": "kl[classifier:digits]", "value": (1000 - m) / 100, "kimg": k, "wall_clock_s": wall})
    (d / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))


def _sweep(root: Path) -> list:
    # RpGAN separates from GAN at 60 kimg (intervals apart) and covers >= 99 % of the modes at 90 kimg only.
    _run(root, "rpgan_r1_r2", 0, [800, 900, 995])
    _run(root, "rpgan_r1_r2", 1, [810, 905, 996])
    _run(root, "rpgan_r1_r2", 2, [820, 910], state="interrupted")  # stopped after 60 kimg
    _run(root, "gan_r1_r2", 0, [805, 700, 600])
    _run(root, "gan_r1_r2", 1, [815, 690, 610])
    _run(root, "gan_r1_r2", 2, [800, 710, 590])
    # R1 alone: one run diverged after 30 kimg, one collapsed (<= 500 modes) from 60 kimg on.
    _run(root, "rpgan_r1", 0, [700], state="diverged")
    _run(root, "rpgan_r1", 1, [650, 400, 300])
    return [read_run(p, print) for p in find_run_dirs(root)]


def test_stats_at_counts_runs_up_to_where_they_got(tmp_path):
    runs = _sweep(tmp_path)
    ks = budget.eval_points(runs, ["modes", "kl"])
    assert [round(k) for k in ks] == [30, 60, 90]
    st30, st90 = budget.stats_at(runs, ["modes"], ks[0]), budget.stats_at(runs, ["modes"], ks[2])
    assert st30["rpgan_r1_r2"].values["modes"] == [800, 810, 820]
    assert st90["rpgan_r1_r2"].values["modes"] == [995, 996]  # the interrupted seed stopped at 60
    assert st30["rpgan_r1"].diverged == 0 and st90["rpgan_r1"].diverged == 1
    assert st90["rpgan_r1"].values["modes"] == [300]


def test_each_claim_appears_at_the_kimg_its_numbers_say(tmp_path):
    runs = _sweep(tmp_path)
    ks, lines = budget.timelines(TABLE, runs, ["modes", "kl"])
    by = {line.claim.split(" (")[0]: line for line in lines}
    more = by["RpGAN + R1 + R2 covers more modes than GAN + R1 + R2"]
    assert [s for _, s, _ in more.points] == [NOT_REPRODUCED, CONSISTENT, CONSISTENT]
    assert round(more.appears) == 60 and more.holds and round(more.holds_from) == 60
    full = by["RpGAN + R1 + R2 covers all modes"]
    assert [s for _, s, _ in full.points] == [NOT_REPRODUCED, NOT_REPRODUCED, CONSISTENT]
    assert round(full.appears) == 90 and round(full.holds_from) == 90
    r1 = next(line for line in lines if line.claim.startswith("R1 alone fails"))
    # 30 kimg: 2 R1 runs, none failed; 60: one diverged + one collapsed -> consistent (the control is fine)
    assert [s for _, s, _ in r1.points][1:] == [CONSISTENT, CONSISTENT]
    assert r1.points[0][1] == NOT_REPRODUCED


def test_report_writes_tables_figure_and_page(tmp_path):
    _sweep(tmp_path / "runs")
    out = tmp_path / "out"
    assert budget.main([str(tmp_path / "runs"), "--table", TABLE, "--metric", "modes,kl", "--target-kimg",
                        "10000", "--out", str(out)]) == 0
    md = (out / f"{TABLE}_budget.md").read_text()
    assert "| 60 | 700 ± 25 (n=3) | 400 (n=1) | 905 ± 12 (n=3) |" in md  # gan, rpgan_r1, rpgan at 60 kimg
    assert "300 kimg per hour; the paper's 10000 kimg would take 33.3 h per run" in md
    assert "| RpGAN + R1 + R2 covers all modes (Table 1: 1000 of 1000; here 1000) | 90 | 90 |" in md
    assert (out / f"{TABLE}_budget.png").stat().st_size > 1000
    page = (out / f"{TABLE}_budget.html").read_text()
    assert "When each claim appears" in page and "data:image/png;base64," in page
    assert "<h2>Scale and protocol</h2>\n<p>Scale of our runs (longest)" in page
    assert "<ul><li>gan_r1_r2: 300 kimg per hour; the paper&#x27;s 10000 kimg would take 33.3 h per run</li>" in page


def test_a_claim_that_comes_and_goes_holds_from_its_last_return(tmp_path):
    """Separated at 30 kimg, overlapping at 60, separated again at 90: it appears at 30, holds from 90."""
    _run(tmp_path, "rpgan_r1_r2", 0, [900, 700, 990])
    _run(tmp_path, "rpgan_r1_r2", 1, [905, 720, 995])
    _run(tmp_path, "gan_r1_r2", 0, [600, 710, 600])
    _run(tmp_path, "gan_r1_r2", 1, [610, 715, 610])
    runs = [read_run(p, print) for p in find_run_dirs(tmp_path)]
    _, lines = budget.timelines(TABLE, runs, ["modes", "kl"])
    more = next(line for line in lines if line.claim.startswith("RpGAN + R1 + R2 covers more"))
    assert [s for _, s, _ in more.points] == [CONSISTENT, NOT_REPRODUCED, CONSISTENT]
    assert round(more.appears) == 30 and not more.holds and round(more.holds_from) == 90
    study = budget.build(TABLE, runs, ["modes", "kl"], None)
    row = next(r for _, _, rows in study.tables for r in rows if r[0].startswith("RpGAN + R1 + R2 covers more"))
    assert row[1:3] == ["30", "90"]


def test_claim_never_reached_is_reported_as_such(tmp_path):
    _run(tmp_path, "rpgan_r1_r2", 0, [800, 850, 870])
    _run(tmp_path, "rpgan_r1_r2", 1, [810, 860, 880])
    runs = [read_run(p, print) for p in find_run_dirs(tmp_path)]
    _, lines = budget.timelines(TABLE, runs, ["modes", "kl"])
    full = next(line for line in lines if line.claim.startswith("RpGAN + R1 + R2 covers all"))
    assert full.appears is None and not full.holds and full.holds_from is None
    more = next(line for line in lines if line.claim.startswith("RpGAN + R1 + R2 covers more"))
    assert {s for _, s, _ in more.points} == {NOT_TESTED}  # no GAN row at all


def test_the_figure_spans_the_seeds_values_not_the_two_seed_intervals(tmp_path):
    """Two seeds 200 modes apart: the t-interval (12.7 standard errors) reaches below 0 and above 1000 modes.
    The y axis spans the seeds' values, padded by 5 %, so the curves stay readable."""
    _run(tmp_path, "rpgan_r1_r2", 0, [800, 900, 995])
    _run(tmp_path, "rpgan_r1_r2", 1, [600, 700, 990])
    runs = [read_run(p, print) for p in find_run_dirs(tmp_path)]
    limits = budget.plot(TABLE, runs, ["modes", "kl"], tmp_path / "f.png")
    pad = 0.05 * (995 - 600)
    assert limits["modes"] == (600 - pad, 995 + pad)
    kls = [(1000 - m) / 100 for m in (800, 900, 995, 600, 700, 990)]
    assert limits["kl"] == (min(kls) - 0.05 * (max(kls) - min(kls)), max(kls) + 0.05 * (max(kls) - min(kls)))
    assert (tmp_path / "f.png").stat().st_size > 1000

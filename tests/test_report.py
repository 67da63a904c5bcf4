"""gan-zoo-report on a fixture tree of fake run directories (no training): exact tables, CSV, LaTeX, PNG."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import yaml
from PIL import Image
from scipy import stats

from gan_zoo.errors import ConfigError
from gan_zoo.paper_tables import PAPER_TABLES, R3GAN_LOSS_ABLATION, R3GAN_ROADMAP
from gan_zoo.report import main, mean_ci

FD = "fd[classifier:digits]"


def make_run(root, rel, *, table, row, seed, state, points, kimg=20.0, wall=100.0, change=None,
             extractor="classifier", budget="cpu_mini", primary=FD, g=312_000, d=305_000, variant=None):
    """One fake run directory; ``points`` is a list of (metric, kimg, value) written in that order."""
    run = root / rel
    run.mkdir(parents=True)
    table_cfg = {"name": table, "row": row, **({"change": change} if change else {}),
                 **({"variant": variant} if variant else {})}
    cfg = {"name": rel, "seed": seed, "table": table_cfg, "budget": {"name": budget},
           "metrics": {"primary": primary}}
    (run / "config.yaml").write_text(yaml.safe_dump(cfg))
    status = {"state": state, "kimg": kimg, "iterations": int(kimg * 1000 / 64), "wall_clock_s": wall,
              "g_params": g, "d_params": d, "message": ""}
    (run / "status.json").write_text(json.dumps(status))
    entries = [{"metric": m, "value": v, "kimg": k, "n": 1000, "extractor": extractor, "resize": "none",
                "ref_hash": "abc", "seed": seed, "wall_clock_s": 1.0, "time": "t"} for m, k, v in points]
    (run / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    return run


def md(*cells: str) -> str:
    """One Markdown table line from its cells (keeps the expected tables below readable)."""
    return "| " + " | ".join(cells) + " |"


def table_lines(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("|")]


def caption_lines(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line and not line.startswith("|")]


@pytest.fixture
def roadmap_tree(tmp_path):
    root = tmp_path / "runs"
    rm = dict(table="r3gan_roadmap")
    # Row A: three finished seeds ending at 10, 12, 14 (seed 2 logs its last kimg first: order must not
    # matter) and a diverged seed whose lower early value must not be averaged.
    for seed, (early, final), wall in zip(range(3), [(50, 10), (60, 12), (70, 14)], [100, 200, 300]):
        points = [(FD, 10.0, early), (FD, 20.0, final)]
        make_run(root, f"A/seed{seed}", row="A", seed=seed, state="finished", wall=wall,
                 change="StyleGAN2 baseline", points=points[::-1] if seed == 2 else points, **rm)
    make_run(root, "A/seed3", row="A", seed=3, state="diverged", kimg=15.0, points=[(FD, 10.0, 5.0)], **rm)
    make_run(root, "B/seed0", row="B", seed=0, state="finished", wall=3700, points=[(FD, 20.0, 20.0)], **rm)
    make_run(root, "B/seed1", row="B", seed=1, state="running", kimg=12.0, points=[(FD, 10.0, 30.0)], **rm)
    for seed in range(2):
        make_run(root, f"D_resnet/seed{seed}", row="D_resnet", seed=seed, state="diverged", kimg=3.0,
                 points=[], **rm)
    make_run(root, "D_no_skips/seed0", row="D_no_skips", seed=0, state="finished", kimg=16.0, wall=59,
             points=[(FD, 8.0, 9.0), (FD, 16.0, 9.25)], **rm)
    make_run(root, "E_wide/seed0", row="E_wide", seed=0, state="finished", change="wider", wall=42,
             points=[(FD, 20.0, 7.0)], g=2_500_000, d=2_400_000, **rm)
    # a run of another table in the same tree: ignored by --table r3gan_roadmap
    make_run(root, "ablation/seed0", table="r3gan_loss_ablation", row="gan_r1", seed=0, state="diverged",
             points=[])
    return root


def test_t_interval_matches_the_formula():
    half = stats.t.ppf(0.975, 2) * 2 / math.sqrt(3)
    assert half == pytest.approx(4.9683, abs=1e-4)
    assert mean_ci([10.0, 12.0, 14.0]) == (pytest.approx(12.0), pytest.approx(half, rel=1e-12))
    assert mean_ci([7.0]) == (7.0, None)


def test_roadmap_table_exact(roadmap_tree, tmp_path, capsys):
    out = tmp_path / "reports" / "roadmap"
    assert main([str(roadmap_tree), "--table", "r3gan_roadmap", "--out", str(out)]) == 0
    markdown = (out / "r3gan_roadmap.md").read_text()
    # A: mean 12, CI half-width t(0.975, 2) * 2 / sqrt(3) = 4.968 -> 2 significant digits "5.0", mean to
    # the same place; delta 12 - 7.516 = 4.484 -> "+4.5". One-seed rows show 4 significant digits.
    sizes = "312.0k / 305.0k"
    expected = [
        md("row", "change", "ours fd[classifier:digits]", "paper fid", "Δ fd", "G/D params",
           "paper G/D params", "kimg", "wall-clock", "budget"),
        "|---|---|---|---|---|---|---|---|---|---|",
        md("A", "StyleGAN2 baseline", "12.0 ± 5.0 (n=3); diverged (1/4 seeds)", "7.516", "+4.5", sizes,
           "24.767M / 24.001M", "20", "3m 20s", "cpu_mini"),
        md("B", "stripped StyleGAN2", "20.00 (n=1); running at 12 kimg (1/2 seeds)", "12.46", "+7.54", sizes,
           "18.890M / 23.996M", "20", "1h 01m", "cpu_mini"),
        md("C_rpgan", "+ RpGAN loss", "missing", "11.77", "—", "—", "18.890M / 23.996M", "—", "—", "—"),
        md("C_r2", "+ R2 penalty", "missing", "11.65", "—", "—", "18.890M / 23.996M", "—", "—", "—"),
        md("D_resnet", "+ ResNet-ify G and D", "diverged (2/2 seeds)", "10.17", "—", sizes,
           "23.400M / 23.282M", "—", "—", "cpu_mini"),
        md("D_no_skips", "- output skips", "9.250 (n=1)", "9.950", "-0.700", sizes, "23.378M / 23.282M",
           "16", "59s", "cpu_mini"),
        md("E_grouped", "+ ResNeXt-ify (grouped 3x3 conv)", "missing", "7.507", "—", "—", "23.188M / 23.091M",
           "—", "—", "—"),
        md("E_inverted", "+ inverted bottleneck", "missing", "7.045", "—", "—", "23.058M / 23.010M", "—", "—",
           "—"),
        md("E_wide", "wider", "7.000 (n=1)", "—", "—", "2.500M / 2.400M", "—", "20", "42s", "cpu_mini"),
    ]
    assert table_lines(markdown) == expected
    captions = caption_lines(markdown)
    assert captions[0].startswith("Table 2 of Huang et al.")
    not_fid = [c for c in captions if c.startswith("Not FID:")]
    assert len(not_fid) == 1
    assert "'classifier' feature extractor (budget cpu_mini)" in not_fid[0]
    assert "Inception FID on FFHQ-256" in not_fid[0] and "orientation only" in not_fid[0]
    console = capsys.readouterr().out
    assert "\n".join(expected) in console and f"wrote {out / 'r3gan_roadmap.csv'}" in console

    with (out / "r3gan_roadmap.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == [
        "row", "variant", "change", f"{FD} mean", f"{FD} ci95", f"{FD} n", f"{FD} cell", f"paper {FD}", f"delta {FD}",
        "g_params", "d_params", "paper_g_params_m", "paper_d_params_m", "kimg", "wall_clock_s", "budget",
        "runs", "running", "finished", "diverged", "failed", "unreadable"]
    half = stats.t.ppf(0.975, 2) * 2 / math.sqrt(3)
    assert rows[1] == ["A", "", "StyleGAN2 baseline", "12", f"{half:.6g}", "3",
                       "12.0 ± 5.0 (n=3); diverged (1/4 seeds)", "7.516", f"{12 - 7.516:.6g}", "312000",
                       "305000", "24.767", "24.001", "20", "200", "cpu_mini", "4", "0", "3", "1", "0", "0"]
    assert rows[3] == ["C_rpgan", "", "+ RpGAN loss", "", "", "0", "missing", "11.77", "", "", "", "18.89",
                       "23.996", "", "", "", "0", "0", "0", "0", "0", "0"]
    assert [r[0] for r in rows[1:]] == [r.row for r in R3GAN_ROADMAP.rows] + ["E_wide"]

    latex = (out / "r3gan_roadmap.tex").read_text()
    assert latex.startswith("\\begin{tabular}{" + "l" * 10 + "}")
    assert "\\end{tabular}" in latex and latex.count("\\\\") == 1 + 9
    assert "C\\_rpgan & + RpGAN loss & missing & 11.77" in latex and "12.0 $\\pm$ 5.0" in latex
    png = (out / "r3gan_roadmap_curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # one colour per row that has values (D_resnet's seeds diverged before any), drawn as lines
    pixels = colour_pixels(out / "r3gan_roadmap_curves.png")
    assert {i for i, n in pixels.items() if n} == {0, 1, 5, 8}, pixels  # rows A, B, D_no_skips, E_wide
    # a point and its legend handle take ~100 pixels (B, E_wide: one point per seed); A's 3 and D_no_skips's
    # one two-point series are lines across the plot
    assert pixels[0] > 1000 and pixels[5] > 300 and max(pixels[1], pixels[8]) < 300, pixels


# matplotlib's default colour cycle C0..C9 (the report gives row i of the table colour C<i>), less C7: grey,
# which axes and text share
CYCLE = {i: c for i, c in enumerate(["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                                     "#7f7f7f", "#bcbd22", "#17becf"]) if i != 7}


def colour_pixels(path) -> dict[int, int]:
    """Pixels of the PNG within a small distance of each cycle colour (anti-aliased edges excluded), by index."""
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
    return {i: int((np.abs(rgb - [int(c[k: k + 2], 16) for k in (1, 3, 5)]).sum(-1) < 30).sum())
            for i, c in CYCLE.items()}


def test_loss_ablation_two_metrics_and_unreadable_run(tmp_path, capsys):
    root = tmp_path / "ablation"
    modes, kl = "modes[classifier:stacked_fmnist]", "kl[classifier:stacked_fmnist]"
    la = dict(table="r3gan_loss_ablation", primary=[modes])
    for seed, (m, k) in enumerate([(1000, 0.05), (998, 0.07), (999, 0.09)]):
        make_run(root, f"rpgan_r1_r2/{seed}", row="rpgan_r1_r2", seed=seed, state="finished",
                 points=[(modes, 10.0, 500), (kl, 10.0, 2.0), (modes, 20.0, m), (kl, 20.0, k)], **la)
    for seed in range(2):
        make_run(root, f"rpgan_r1/{seed}", row="rpgan_r1", seed=seed, state="diverged", kimg=2.0,
                 points=[], **la)
    bad = make_run(root, "gan_r1/0", row="gan_r1", seed=0, state="finished", points=[(modes, 20.0, 3)], **la)
    with (bad / "metrics.jsonl").open("a") as f:
        f.write('{"metric": "modes[classifier:stacked_fmnist]", "value": \n')
    out = tmp_path / "out"
    assert main([str(root), "--metric", "modes,kl", "--out", str(out)]) == 0  # table.name from the runs
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and f"{bad / 'metrics.jsonl'}:2: unreadable line" in warnings[0]
    markdown = (out / "r3gan_loss_ablation.md").read_text()
    # modes 1000, 998, 999: mean 999, s = 1, half-width t(0.975, 2) / sqrt(3) = 2.484 -> "2.5";
    # kl 0.05, 0.07, 0.09: mean 0.07, s = 0.02, half-width 0.04968 -> "0.050"; delta 0.07 - 0.0781 ->
    # "-0.008".
    sizes, bad_cell = "312.0k / 305.0k", "unreadable: metrics.jsonl"
    assert table_lines(markdown) == [
        md("row", "change", "ours modes", "paper modes", "Δ modes", "ours kl", "paper kl", "Δ kl",
           "G/D params", "paper G/D params", "kimg", "wall-clock", "budget"),
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        md("rpgan_r1_r2", "RpGAN + R1 + R2", "999.0 ± 2.5 (n=3)", "1000", "-1.0", "0.070 ± 0.050 (n=3)",
           "0.0781", "-0.008", sizes, "—", "20", "1m 40s", "cpu_mini"),
        md("gan_r1_r2", "GAN + R1 + R2", "missing", "693", "—", "missing", "0.9270", "—", "—", "—", "—", "—",
           "—"),
        md("rpgan_r1", "RpGAN + R1", "diverged (2/2 seeds)", "diverged", "—", "diverged (2/2 seeds)",
           "diverged", "—", sizes, "—", "—", "—", "cpu_mini"),
        md("gan_r1", "GAN + R1", bad_cell, "diverged", "—", bad_cell, "diverged", "—", sizes, "—", "—", "—",
           "cpu_mini"),
    ]
    assert any(c.startswith("Not FID: our modes, kl come from the 'classifier' feature extractor")
               for c in caption_lines(markdown))
    with (out / "r3gan_loss_ablation.csv").open() as f:
        first = list(csv.DictReader(f))[0]
    assert float(first["kl ci95"]) == pytest.approx(stats.t.ppf(0.975, 2) * 0.02 / math.sqrt(3), rel=1e-5)
    assert float(first["modes ci95"]) == pytest.approx(stats.t.ppf(0.975, 2) / math.sqrt(3), rel=1e-5)


def test_variants_of_a_row_are_separate_lines_never_pooled(tmp_path):
    """Each gamma of an R1-only row (``table.variant``) is its own line after the paper row's place; a
    paper row whose runs all carry a variant shows no empty "missing" line of its own."""
    root = tmp_path / "ablation"
    modes = "modes[classifier:digits]"
    la = dict(table="r3gan_loss_ablation", primary=[modes])
    for seed, value in enumerate([100, 300]):
        make_run(root, f"rpgan_r1/{seed}", row="rpgan_r1", variant="γ 1→0.1", seed=seed, state="finished",
                 points=[(modes, 20.0, value)], **la)
        make_run(root, f"rpgan_r1_gamma10/{seed}", row="rpgan_r1", variant="γ 10→1", seed=seed,
                 state="finished" if seed else "diverged", points=[(modes, 20.0, 900)], **la)
    out = tmp_path / "out"
    assert main([str(root), "--metric", "modes", "--out", str(out)]) == 0
    lines = table_lines((out / "r3gan_loss_ablation.md").read_text())
    assert [line.split(" | ")[0] for line in lines[2:]] == [
        "| rpgan_r1_r2", "| gan_r1_r2", "| rpgan_r1 (γ 1→0.1)", "| rpgan_r1 (γ 10→1)", "| gan_r1"]
    # gamma 1: values 100, 300 -> mean 200, s = 141.42, half-width t(0.975, 1) * s / sqrt(2) = 1270.6
    assert lines[4].startswith(md("rpgan_r1 (γ 1→0.1)", "RpGAN + R1", "200 ± 1271 (n=2)", "diverged", "—"))
    assert lines[5].startswith(md("rpgan_r1 (γ 10→1)", "RpGAN + R1", "900.0 (n=1); diverged (1/2 seeds)"))
    with (out / "r3gan_loss_ablation.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["row"], r["variant"], r["runs"]) for r in rows] == [
        ("rpgan_r1_r2", "", "0"), ("gan_r1_r2", "", "0"), ("rpgan_r1", "γ 1→0.1", "2"),
        ("rpgan_r1", "γ 10→1", "2"), ("gan_r1", "", "0")]
    latex = (out / "r3gan_loss_ablation.tex").read_text()
    assert "rpgan\\_r1 ($\\gamma$ 10$\\to$1)" in latex


def test_inception_metric_has_no_not_fid_caption_and_corrupt_status(tmp_path, capsys):
    root = tmp_path / "runs"
    fid = "fid[inception:ffhq256]"
    make_run(root, "e/0", table="r3gan_roadmap", row="E_inverted", seed=0, state="finished",
             extractor="inception-v3-compat", budget="paper", primary=fid, points=[(fid, 5000.0, 7.0)])
    broken = make_run(root, "e/1", table="r3gan_roadmap", row="E_inverted", seed=1, state="finished",
                      budget="paper", primary=fid, points=[])
    (broken / "status.json").write_text('{"state": "finished", "kimg": ')
    assert main([str(root), "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert f"warning: {broken / 'status.json'}: unreadable" in err
    markdown = (tmp_path / "o" / "r3gan_roadmap.md").read_text()
    assert not any(c.startswith("Not FID") for c in caption_lines(markdown))
    assert table_lines(markdown)[-1].startswith(md(
        "E_inverted", "+ inverted bottleneck", "7.000 (n=1); unreadable: status.json (1/2 seeds)", "7.045",
        "-0.045"))


def test_user_errors_are_one_line(tmp_path, roadmap_tree, capsys):
    assert main([str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("error: runs_root") and "nope" in err
    assert main([str(roadmap_tree), "--out", str(tmp_path / "o")]) == 2  # two tables in one tree
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {roadmap_tree} holds runs of several tables (r3gan_loss_ablation, "
                   "r3gan_roadmap): pass --table, one of r3gan_loss_ablation, r3gan_roadmap")
    assert main([str(roadmap_tree), "--table", "r3gan_roadmp"]) == 2
    assert "--table r3gan_roadmp is neither a paper table" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="pass a full name"):
        from gan_zoo.report import Run, metric_series
        metric_series(Run(tmp_path, metrics=[{"metric": "fd[a]", "kimg": 1.0, "value": 1.0},
                                             {"metric": "fd[b]", "kimg": 1.0, "value": 2.0}]), "fd")


def test_paper_tables_hold_the_papers_numbers():
    assert [r.row for r in R3GAN_ROADMAP.rows] == ["A", "B", "C_rpgan", "C_r2", "D_resnet", "D_no_skips",
                                                   "E_grouped", "E_inverted"]
    assert [R3GAN_ROADMAP.value(r.row, "fid").value for r in R3GAN_ROADMAP.rows] == [
        7.516, 12.46, 11.77, 11.65, 10.17, 9.950, 7.507, 7.045]
    assert R3GAN_ROADMAP.value("D_no_skips", "fd[classifier:digits]").text == "9.950"
    assert R3GAN_LOSS_ABLATION.value("gan_r1_r2", "kl[classifier:x]").text == "0.9270"
    assert R3GAN_LOSS_ABLATION.value("rpgan_r1", "modes").value is None
    ffhq256 = PAPER_TABLES["r3gan_param_counts"].row("ffhq256")
    assert (ffhq256.g_params_m, ffhq256.d_params_m) == (23.058, 23.010)
    assert R3GAN_ROADMAP.row("E_inverted").g_params_m == ffhq256.g_params_m


def test_budgets_are_separate_tables(tmp_path, capsys):
    """Runs of one row at two budgets are never averaged together: without --budget the report stops with a
    one-line error naming them; --budget reports one budget's runs only."""
    root = tmp_path / "ablation"
    modes = "modes[classifier:digits]"
    la = dict(table="r3gan_loss_ablation", row="rpgan_r1_r2", primary=[modes])
    make_run(root, "short/0", seed=0, state="finished", budget="cpu_mini", points=[(modes, 60.0, 700)], **la)
    make_run(root, "long/0", seed=0, state="finished", budget="cpu_long", kimg=300.0,
             points=[(modes, 300.0, 900)], **la)
    assert main([str(root), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {root} holds runs of table r3gan_loss_ablation at several budgets (cpu_long, cpu_mini): "
        "pass --budget, one of cpu_long, cpu_mini")
    assert main([str(root), "--budget", "cpu_paper", "--out", str(tmp_path / "o")]) == 2
    assert "--budget cpu_paper: no run of table" in capsys.readouterr().err
    assert main([str(root), "--budget", "cpu_long", "--out", str(tmp_path / "o")]) == 0
    first = table_lines((tmp_path / "o" / "r3gan_loss_ablation.md").read_text())[2]
    assert first == md("rpgan_r1_r2", "RpGAN + R1 + R2", "900.0 (n=1)", "1000", "-100.0", "312.0k / 305.0k",
                       "—", "300", "1m 40s", "cpu_long")


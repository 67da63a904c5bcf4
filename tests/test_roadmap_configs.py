"""The R3GAN roadmap (Huang et al., NeurIPS 2024, Table 2) and loss ablation (Table 1) as experiment configs and
sweeps: every row composes and builds, differs from its predecessor by exactly Table 2's change, FFHQ-256 rows
have the paper's parameter counts, and the sweeps compose to deterministic run directories."""

from __future__ import annotations

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from gan_zoo.paper_tables import R3GAN_LOSS_ABLATION, R3GAN_ROADMAP
from gan_zoo.paths import CONF_DIR
from tests.helpers import train_run

ROWS = [r.row for r in R3GAN_ROADMAP.rows]  # A, B, C_rpgan, C_r2, D_resnet, D_no_skips, E_grouped, E_inverted
# scale -> budget.name, metrics.primary
SCALES = {"ffhq256": ("paper", "fid"), "cpu_mini": ("cpu_mini", "fd"), "cpu_16px": ("cpu_16px", "fd"),
          "cpu_fmnist8": ("cpu_long", "fd")}
RESOLUTION = {"ffhq256": 256, "cpu_mini": 8, "cpu_16px": 16, "cpu_fmnist8": 8}

# Table 2's change from the predecessor row: (key prefixes allowed to differ, keys that must differ).
MODEL_KEYS = ("model.",)
CHANGES = {
    "B": (("model.", "regularizer.", "schedule.lr.", "lazy_reg_steps"),
          {"lazy_reg_steps", "model.equalized_lr", "model.mapping_layers", "model.demodulate", "model.z_dim",
           "regularizer.r1.interval", "regularizer.path_length._target_", "schedule.lr.start", "schedule.lr.end"}),
    "C_rpgan": (("loss.",), {"loss._target_"}),  # another loss: its own options (NS has label smoothing)
    "C_r2": (("regularizer.r2.",), {"regularizer.r2._target_", "regularizer.r2.gamma", "regularizer.r2.interval"}),
    "D_resnet": (MODEL_KEYS, {"model.generator._target_", "model.discriminator._target_", "model.expansion"}),
    "D_no_skips": (("model.name", "model.output_skips"), {"model.output_skips"}),
    "E_grouped": (("model.name", "model.channels", "model.expansion", "model.channels_per_group"),
                  {"model.expansion", "model.channels_per_group"}),
    "E_inverted": (("model.name", "model.channels", "model.expansion"), {"model.expansion"}),
}


def compose_cfg(overrides: list[str], hydra: bool = False) -> DictConfig:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="train", overrides=overrides, return_hydra_config=hydra)


def flat(node, prefix: str = "") -> dict:
    """Dotted keys -> unresolved leaf values (lists are leaves), the run config without Hydra's own node."""
    out = {}
    for key, value in node.items():
        if key == "hydra" and not prefix:
            continue
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


@pytest.fixture(scope="module")
def rows() -> dict[tuple[str, str], DictConfig]:
    return {(scale, row): compose_cfg([f"experiment=roadmap/{scale}/{row}"]) for scale in SCALES for row in ROWS}


def changed_keys(a: DictConfig, b: DictConfig) -> set[str]:
    fa, fb = (flat(OmegaConf.to_container(c, resolve=False)) for c in (a, b))
    ignore = ("name", "table.")
    return {k for k in fa.keys() | fb.keys() if fa.get(k, "<absent>") != fb.get(k, "<absent>")
            and not k.startswith(ignore)}


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("row", ROWS)
def test_row_sets_the_report_keys(rows, scale, row):
    cfg = rows[scale, row]
    paper_row = R3GAN_ROADMAP.row(row)
    assert (cfg.table.name, cfg.table.row, cfg.table.change) == ("r3gan_roadmap", row, paper_row.change)
    assert cfg.name == f"roadmap_{scale}_{row}"
    assert (cfg.budget.name, cfg.metrics.primary) == SCALES[scale]
    assert cfg.dataset.resolution == RESOLUTION[scale]
    assert cfg.model.c_dim == 0  # unconditional, as Table 2


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("row", ROWS[1:])
def test_row_is_its_predecessor_plus_the_table2_change(rows, scale, row):
    before = rows[scale, ROWS[ROWS.index(row) - 1]]
    changed = changed_keys(before, rows[scale, row])
    allowed, required = CHANGES[row]
    assert required <= changed, f"{row} should change {sorted(required - changed)}"
    assert all(k.startswith(allowed) for k in changed), f"{row} also changes {sorted(changed)}"


def test_training_values_of_rows_a_and_b(rows):
    """stylegan2-ada paper256 for A (lr 2.5e-3, betas (0, 0.99), batch 64, gamma 1, EMA 20 kimg, lazy R1 every
    16, path length every 4, NS loss); B: lr 5e-5, R1 every step; both unchanged through E."""
    keys = ("schedule", "optimizer", "loss", "regularizer", "batch_size", "total_kimg")
    a, b, e = ({k: OmegaConf.to_container(OmegaConf.create({"v": rows["ffhq256", r][k]}), resolve=True)["v"]
                for k in keys} for r in ("A", "B", "E_inverted"))
    assert a["schedule"]["lr"] == {"start": 0.0025, "end": 0.0025} and a["optimizer"]["optim"]["betas"] == [0.0, 0.99]
    assert (a["batch_size"], a["total_kimg"], a["schedule"]["gamma"]["end"]) == (64, 5000, 1.0)
    assert a["schedule"]["ema_halflife_kimg"]["end"] == 20.0 and a["loss"]["_target_"].endswith("NonSaturating")
    assert (a["regularizer"]["r1"]["interval"], a["regularizer"]["path_length"]["interval"]) == (16, 4)
    assert b["schedule"]["lr"]["end"] == 5e-5 and b["regularizer"]["r1"]["interval"] == 1
    assert e["schedule"] == b["schedule"] and e["batch_size"] == 64 and e["loss"]["_target_"].endswith("RpGAN")
    assert set(e["regularizer"]) == {"r1", "r2"}


def test_ffhq256_parameter_counts_match_table2(rows):
    """Built from the experiment configs on the meta device; Table 2 prints C's sizes "as B"."""
    for row in ROWS:
        model, paper = rows["ffhq256", row].model, R3GAN_ROADMAP.row(row)
        with torch.device("meta"):
            g, d = instantiate(model.generator), instantiate(model.discriminator)
        counts = [sum(p.numel() for p in net.parameters()) / 1e6 for net in (g, d)]
        assert counts == pytest.approx([paper.g_params_m, paper.d_params_m], rel=5e-3), row


@pytest.mark.parametrize("row", ROWS)
def test_cpu_mini_row_trains_one_iteration(row, tmp_path):
    status = train_run([f"experiment=roadmap/cpu_mini/{row}", "budget.batch_size=8", "total_kimg=0.008",
                        "callbacks.samples.every_kimg=1000"], tmp_path)
    assert status["state"] == "finished" and status["kimg"] == pytest.approx(0.008)


def test_loss_ablation_rows():
    cfgs = {e: compose_cfg([f"experiment=loss_ablation/cpu_mini/{e}"]) for e in
            ("rpgan_r1_r2", "gan_r1_r2", "rpgan_r1", "gan_r1", "rpgan_r1_gamma10", "gan_r1_gamma0p1")}
    for name, cfg in cfgs.items():
        row = name.split("_gamma")[0]
        assert (cfg.table.name, cfg.table.row) == ("r3gan_loss_ablation", row)
        assert cfg.table.change == R3GAN_LOSS_ABLATION.row(row).change and cfg.metrics.primary == "kl"
    loss_swap = changed_keys(cfgs["rpgan_r1_r2"], cfgs["gan_r1_r2"])  # the loss group and nothing else
    assert "loss._target_" in loss_swap and all(k.startswith("loss.") for k in loss_swap)
    assert changed_keys(cfgs["rpgan_r1_r2"], cfgs["rpgan_r1"]) == {
        "regularizer.r2._target_", "regularizer.r2.gamma", "regularizer.r2.interval"}
    assert changed_keys(cfgs["gan_r1_r2"], cfgs["gan_r1"]) == changed_keys(cfgs["rpgan_r1_r2"], cfgs["rpgan_r1"])
    assert changed_keys(cfgs["rpgan_r1"], cfgs["rpgan_r1_gamma10"]) == {"schedule.gamma.start", "schedule.gamma.end"}
    assert cfgs["gan_r1_gamma0p1"].schedule.gamma == {"start": 0.1, "end": 0.01}
    assert [cfgs[e].table.get("variant") for e in cfgs] == [None, None, "γ 1→0.1", "γ 1→0.1", "γ 10→1",
                                                             "γ 0.1→0.01"]


@pytest.mark.parametrize(("sweep", "prefix", "count"), [
    ("roadmap", "roadmap/cpu_mini/", 8), ("roadmap_ffhq256", "roadmap/ffhq256/", 8),
    ("stackedmnist_loss_ablation", "loss_ablation/cpu_mini/", 8),
    ("stackedfmnist_loss_ablation", "loss_ablation/cpu_fmnist8/", 4),
    ("roadmap_fmnist8", "roadmap/cpu_fmnist8/", 4)])
def test_sweep_composes_to_deterministic_run_dirs(sweep, prefix, count):
    cfg = compose_cfg([f"+sweep={sweep}", "budget=cpu_mini"], hydra=True)
    assert cfg.name == sweep and cfg.on_divergence == "record" and str(cfg.hydra.mode) == "RunMode.MULTIRUN"
    params = cfg.hydra.sweeper.params
    experiments = [e.strip() for e in params.experiment.split(",")]
    assert len(set(experiments)) == count and all(e.startswith(prefix) for e in experiments)
    assert params.seed == "0,1,2"
    for experiment in experiments:  # each job composes; the sweep's name wins over the experiment's
        job = compose_cfg([f"+sweep={sweep}", "budget=cpu_mini", f"experiment={experiment}", "seed=1"], hydra=True)
        assert job.name == sweep and job.table.row
        subdir = OmegaConf.to_container(job.hydra.sweep, resolve=True)["subdir"]
        assert subdir == f"{experiment}/budget=cpu_mini,seed=1"


@pytest.mark.parametrize("row", ["rpgan_r1_r2", "gan_r1_r2", "rpgan_r1", "gan_r1"])
def test_fmnist8_row_is_the_cpu_mini_row_on_8px_garments(row):
    """Only the data and the classifier that measures it change: loss, penalties, schedule and model are the
    stacked-digits row's, so the two datasets' tables compare the same recipe."""
    digits = compose_cfg([f"experiment=loss_ablation/cpu_mini/{row}"])
    fmnist = compose_cfg([f"experiment=loss_ablation/cpu_fmnist8/{row}"])
    changed = changed_keys(digits, fmnist)
    assert {k for k in changed if not k.startswith("dataset.")} == {"metrics.classifier"}
    assert fmnist.metrics.classifier == "fmnist8" and fmnist.table == digits.table
    assert (fmnist.dataset.family, fmnist.dataset.resolution) == ("fmnist", 8) and fmnist.model.resolution == 8


def test_loss_ablation_runs_longer_at_budget_cpu_long():
    """budget=cpu_long continues the cpu_mini recipe (same kimg schedule) to 300 kimg, in its own run dirs."""
    mini, long = (compose_cfg(["+sweep=stackedmnist_loss_ablation", f"budget={b}",
                               "experiment=loss_ablation/cpu_mini/gan_r1", "seed=0"], hydra=True)
                  for b in ("cpu_mini", "cpu_long"))
    assert (long.total_kimg, long.metrics.every_kimg, long.batch_size) == (300, 30, 64)
    assert {k for k in changed_keys(mini, long) if not k.startswith("hydra.")} == {
        "budget.name", "budget.total_kimg", "budget.eval_every_kimg"}
    assert OmegaConf.to_container(long.hydra.sweep, resolve=True)["subdir"].endswith("gan_r1/budget=cpu_long,seed=0")


def test_roadmap_fmnist8_runs_twice_as_long_at_budget_cpu_xl():
    """budget=cpu_xl is the cpu_long roadmap row continued to 600 kimg (the rows' schedules are constant, so
    nothing else depends on the length), in its own run dirs beside the 300-kimg ones."""
    long, xl = (compose_cfg(["+sweep=roadmap_fmnist8", f"budget={b}", "experiment=roadmap/cpu_fmnist8/E_inverted",
                             "seed=0"], hydra=True) for b in ("cpu_long", "cpu_xl"))
    assert (xl.total_kimg, xl.metrics.every_kimg, xl.batch_size) == (600, 30, 64)
    assert {k for k in changed_keys(long, xl) if not k.startswith("hydra.")} == {"budget.name", "budget.total_kimg"}
    ramps = {k: v for k, v in xl.schedule.items() if k != "burnin_kimg"}
    assert ramps and all(v.start == v.end for v in ramps.values()), "a ramp would make cpu_xl differ from cpu_long"
    assert OmegaConf.to_container(xl.hydra.sweep, resolve=True)["subdir"].endswith("E_inverted/budget=cpu_xl,seed=0")



@pytest.mark.parametrize("row", ROWS)
def test_cpu_16px_row_is_the_cpu_mini_row_on_16px_data(rows, row):
    """Only the scale changes (data, budget, the classifier behind fd and the evaluation's sample count):
    the models, loss, penalties and schedule are the cpu_mini row's, at the data's 16 px."""
    mini, px16 = rows["cpu_mini", row], rows["cpu_16px", row]
    changed = changed_keys(mini, px16)
    assert {"dataset._target_", "dataset.resolution", "budget.name", "budget.total_kimg", "metrics.classifier",
            "metrics.num_samples"} <= changed
    assert all(k.startswith(("dataset.", "budget.", "metrics.classifier", "metrics.num_samples")) for k in changed), (
        sorted(changed))
    assert px16.dataset.family == "fmnist" and px16.model.resolution == 16
    assert (px16.batch_size, px16.total_kimg, px16.metrics.every_kimg, px16.metrics.num_samples) == (64, 16, 8, 10000)
    assert px16.metrics.extractor == "classifier:fmnist16" and px16.metrics.primary == "fd"


def test_cpu_16px_row_trains_one_iteration(tmp_path):
    """The largest 16 px row builds at 16 px (one more stage than at 8) and steps; metrics off (no classifier)."""
    status = train_run(["experiment=roadmap/cpu_16px/E_inverted", "budget.batch_size=8", "total_kimg=0.008",
                        "dataset.num_images=500", "metrics=none", "callbacks.samples.every_kimg=1000"], tmp_path)
    assert status["state"] == "finished" and status["kimg"] == pytest.approx(0.008)


def test_roadmap16_sweep_runs_seeds_of_four_rows():
    cfg = compose_cfg(["+sweep=roadmap16"], hydra=True)
    assert cfg.name == "roadmap16" and cfg.on_divergence == "record"
    experiments = [e.strip() for e in cfg.hydra.sweeper.params.experiment.split(",")]
    assert experiments == [f"roadmap/cpu_16px/{r}" for r in ("B", "C_r2", "D_no_skips", "E_inverted")]
    assert cfg.hydra.sweeper.params.seed == "0,1"
    job = compose_cfg(["+sweep=roadmap16", "experiment=roadmap/cpu_16px/D_no_skips", "seed=1"], hydra=True)
    assert job.name == "roadmap16" and job.budget.name == "cpu_16px" and job.table.row == "D_no_skips"
    assert OmegaConf.to_container(job.hydra.sweep, resolve=True)["subdir"] == "roadmap/cpu_16px/D_no_skips/seed=1"


@pytest.mark.parametrize("row", ROWS)
def test_cpu_fmnist8_row_is_the_cpu_mini_row_on_8px_garments_for_300_kimg(rows, row):
    """Only the data, the classifier behind fd/modes and the training length change: the models, loss,
    penalties and schedule are the cpu_mini row's, so a longer run of the same rows on a harder 1000-mode set."""
    mini, fm8 = rows["cpu_mini", row], rows["cpu_fmnist8", row]
    changed = changed_keys(mini, fm8)
    assert {k for k in changed if not k.startswith("dataset.")} == {
        "budget.name", "budget.total_kimg", "budget.eval_every_kimg", "metrics.classifier"}
    assert (fm8.dataset.family, fm8.model.resolution) == ("fmnist", 8)
    assert (fm8.batch_size, fm8.total_kimg, fm8.metrics.every_kimg, fm8.metrics.num_samples) == (64, 300, 30, 26000)
    assert fm8.metrics.extractor == "classifier:fmnist8" and fm8.metrics.primary == "fd"

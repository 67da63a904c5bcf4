"""The 2-D mode-collapse benchmark's entries (experiments/mode_collapse, sweeps/mode_collapse.yaml): every entry
composes with PacGAN's networks and protocol under one budget, packed entries show D PacGAN's 100 packs per step
for the same number of iterations, the grid's loss x penalty rows are exactly R3GAN Table 1's 2-D ablation rows
(shared through table.also) and differ from NS GAN only in loss and penalty, and `make sweep-mode-collapse`
runs exactly the sweep's entries."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf, open_dict

from gan_zoo.paths import CONF_DIR

ROOT = Path(CONF_DIR).parent
SWEEP = yaml.safe_load((ROOT / "sweeps" / "mode_collapse.yaml").read_text())
ENTRIES = [e.strip() for e in SWEEP["hydra"]["sweeper"]["params"]["experiment"].split(",")]
ABLATION = {"gan", "rpgan", "gan_r1", "rpgan_r1", "gan_r1_r2", "rpgan_r1_r2"}  # Table 1's 4 rows + unregularised
# Entries on other networks with their own recipe: evaluated by PacGAN's protocol and reported in its table under
# the budget's name, but trained their own length (the table's kimg and wall-clock columns show it).
OWN_RECIPE = {"mode_collapse/grid/rpgan_r1r2_tanh": ("mlp", 4000)}


def _cfg(entry: str):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="train", overrides=[f"experiment={entry}"])
    with open_dict(cfg):
        for key in ("trainer", "callbacks", "paths", "logger"):  # run-directory interpolations need a live Hydra
            del cfg[key]
    return OmegaConf.to_container(cfg, resolve=True)


@pytest.fixture(scope="module")
def cfgs():
    return {e: _cfg(e) for e in ENTRIES}


def _iterations(c) -> float:
    return c["total_kimg"] * 1000 / c["batch_size"]


def test_every_entry_is_pacgans_protocol_under_one_budget(cfgs):
    assert len(ENTRIES) == len(set(ENTRIES)) >= 10
    assert set(OWN_RECIPE) <= set(ENTRIES)
    for e, c in cfgs.items():
        data = e.split("/")[1]
        assert c["dataset"]["kind"] == data and c["table"]["name"] == f"zoo_{data}", e
        assert c["metrics"]["num_samples"] == 2500 and c["budget"]["name"] == "mode_collapse", e
        if e in OWN_RECIPE:
            model, kimg = OWN_RECIPE[e]
            assert c["model"]["name"] == model and c["total_kimg"] == kimg == c["schedule"]["burnin_kimg"], e
            continue
        assert c["model"]["name"] == "pacgan_mlp" and c["model"]["z_dim"] == 2, e
        assert c["optimizer"]["optim"]["betas"] == [0.8, 0.999] and _iterations(c) == 2000, e
        s = c["schedule"]
        assert s["burnin_kimg"] == c["total_kimg"] and (s["lr"]["start"], s["lr"]["end"]) == (1e-3, 1e-5), e
        assert c["optimizer"]["d_lr_mult"] == 10.0, e
        # the EMA half-life is the same number of iterations (20) for every batch size
        assert s["ema_halflife_kimg"]["end"] * 1000 / c["batch_size"] == 20, e


def test_packed_entries_show_d_100_packs_per_step(cfgs):
    packed = {e: c for e, c in cfgs.items() if "pack" in (c.get("trick") or {})}
    assert {e.rsplit("/", 1)[1] for e in packed} >= {"pacgan4"}
    for e, c in packed.items():
        m = c["trick"]["pack"]["m"]
        assert m == 4 and c["batch_size"] // m == 100 and c["batch_size"] % m == 0, e  # PacGAN: 100 packs of m


def test_grid_ablation_rows_differ_from_ns_gan_only_in_loss_and_penalty(cfgs):
    grid = {e.rsplit("/", 1)[1]: c for e, c in cfgs.items() if e.split("/")[1] == "grid"}
    shared = {row for row, c in grid.items() if "r3gan_toy2d_ablation_grid" in c["table"].get("also", [])}
    assert shared == ABLATION
    base = grid["gan"]
    for row in ABLATION:
        c = grid[row]
        assert c["table"]["row"] == row
        assert c["loss"]["_target_"].endswith("RpGAN" if row.startswith("rpgan") else "NonSaturating"), row
        penalties = {"r1": {"r1"}, "r1_r2": {"r1", "r2"}}.get(row.split("_", 1)[1] if "_" in row else "", set())
        assert set(c["regularizer"] or {}) == penalties, row
        for key in ("schedule", "total_kimg", "batch_size", "model", "optimizer", "trick", "dataset"):
            assert c.get(key) == base.get(key), (row, key)
    assert grid["rpgan_r1_r2"]["schedule"]["gamma"]["end"] == 2.5e-4  # the grid's std^2 scaling of the ring's 1e-5


def test_make_target_runs_exactly_the_sweeps_entries():
    make = (ROOT / "Makefile").read_text()
    parts = re.findall(r"^MC_[AB] :?= (.*)$", make, flags=re.M)
    listed = [p.strip().replace("$(MC)", "mode_collapse") for part in parts for p in part.split(",")]
    listed = [p for p in listed if p and not p.startswith("$(MC_")]
    assert sorted(listed) == sorted(ENTRIES)

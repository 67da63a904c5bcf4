"""The stacked-digits half of the mode-collapse benchmark: PacGAN Table 3 (with Metz et al.'s unrolled rows,
shared/reference/zoo.md) as data, its claims judged from the numbers, and the sweep's entries composing into
the table's rows at D = 1/4 G and 1/2 G."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from gan_zoo.paper_tables import PAPER_TABLES
from gan_zoo.paths import CONF_DIR
from gan_zoo.report.claims import CONSISTENT, NOT_REPRODUCED, NOT_TESTED, RowStats, verdicts
from tests.conftest import compose_run


def test_small_d_tables_hold_the_published_rows():
    q, h = PAPER_TABLES["zoo_stacked_quarter"], PAPER_TABLES["zoo_stacked_half"]
    rows = ["dcgan", "unrolled_1", "unrolled_5", "unrolled_10", "pacdcgan2", "pacdcgan3", "pacdcgan4"]
    assert [r.row for r in q.rows] == rows == [r.row for r in h.rows]
    assert [q.value(r, "modes").value for r in rows] == [30.6, 65.4, 236.4, 327.2, 484.5, 601.3, 667.4]
    assert [h.value(r, "kl").value for r in rows] == [2.58, 2.44, 1.66, 1.43, 1.00, 0.90, 1.15]
    assert q.value("dcgan", "modes[classifier:digits]").text == "30.6" and q.value("dcgan", "hq") is None


def _stats(**rows: list[float]) -> dict[str, RowStats]:
    """row=[modes...] with KL falling as modes rise (log 1000 - log modes, as for a uniform cover)."""
    import math

    return {r: RowStats(values={"modes": v, "kl": [math.log(1000 / m) for m in v]}, runs=len(v))
            for r, v in rows.items()}


def test_claims_are_judged_from_the_numbers():
    vs = verdicts("zoo_stacked_quarter", _stats(dcgan=[30.0, 45.0, 60.0], unrolled_5=[40.0, 50.0, 55.0],
                                                pacdcgan4=[600.0, 640.0, 660.0]))
    by = {v.claim.split(" (")[0]: v for v in vs}
    assert len(vs) == 4 and "(236.4 vs 30.6)" in vs[0].claim
    assert by["Unrolling D 5 steps covers more modes than DCGAN"].status == NOT_REPRODUCED  # intervals overlap
    assert by["PacDCGAN4 covers more modes than DCGAN"].status == CONSISTENT
    assert by["PacDCGAN4 has a lower reverse KL than DCGAN"].status == CONSISTENT
    assert "n=3" in by["PacDCGAN4 covers more modes than Unrolled, 5 steps"].evidence
    one_seed = verdicts("zoo_stacked_half", _stats(dcgan=[600.0], pacdcgan4=[800.0, 810.0]))
    assert all(v.status == NOT_TESTED for v in one_seed) and "(820.2 vs 628.0)" in one_seed[1].claim


def _sweep_entries() -> list[str]:
    sweep = OmegaConf.load(CONF_DIR.parent / "sweeps" / "mode_collapse_stacked.yaml")
    return [e.strip() for e in str(sweep.hydra.sweeper.params.experiment).split(",")]


@pytest.mark.parametrize("entry", _sweep_entries())
def test_sweep_entries_compose_into_their_rows(entry):
    cfg = compose_run([f"experiment={entry}"])
    size = entry.split("/")[1]
    assert cfg.table.name == f"zoo_stacked_{size}" and cfg.dataset._target_.endswith("stacked_digits")
    assert (cfg.model.ngf, cfg.model.ndf) == (32, {"quarter": 8, "half": 16}[size])  # D = 1/4 G, 1/2 G
    paper = PAPER_TABLES[cfg.table.name]
    assert paper.row(cfg.table.row) is not None or cfg.table.row == "rpgan_r1r2"  # our own entry
    assert cfg.metrics.classifier == "digits" and cfg.metrics.num_samples == 26000
    assert cfg.metrics.every_kimg == cfg.total_kimg == 60  # one evaluation, at the end
    if cfg.table.row == "unrolled_5":
        assert cfg.trick.unrolled.steps == 5 and cfg.trick.unrolled.lr == 1e-2
    if cfg.table.row.startswith("pacdcgan"):
        assert cfg.trick.pack.m == int(cfg.table.row[-1])

"""PacGAN's Table 1 as data (numbers of shared/reference/zoo.md) in the paper-table registry, and the verdicts
of the mode-collapse benchmark computed from the numbers."""

from __future__ import annotations

from gan_zoo.paper_tables import PAPER_TABLES
from gan_zoo.paper_tables.zoo import effect, run_times, verdicts
from gan_zoo.report.runs import Run


def test_pacgan_table_is_registered_with_the_published_rows():
    grid, ring = PAPER_TABLES["zoo_grid"], PAPER_TABLES["zoo_ring"]
    assert [r.row for r in grid.rows] == ["gan", "ali", "pacgan2", "pacgan3", "pacgan4"]
    assert [grid.value("pacgan4", m).value for m in ("modes", "hq", "kl")] == [24.8, 93.6, 0.04]
    assert [ring.value("gan", m).value for m in ("modes", "hq", "kl")] == [6.3, 98.2, 0.45]
    assert grid.paper_metric("hq") == "hq" and grid.paper_metric("kl") == "kl"


def test_effect_needs_non_overlapping_intervals():
    assert effect((10.0, 1.0, 5), (13.0, 1.0, 5), True) == "helped"
    assert effect((10.0, 1.0, 5), (11.5, 1.0, 5), True) == "did nothing"
    assert effect((0.5, 0.1, 5), (0.8, 0.1, 5), False) == "hurt"  # KL: lower is better
    assert effect((10.0, None, 1), (11.0, None, 1), True) == "helped (no CI: one seed)"
    # ten seeds that all agree have a CI of width 0: a real interval, not "one seed"
    assert effect((6.9, 0.86, 10), (8.0, 0.0, 10), True) == "helped"


def test_verdicts_from_numbers():
    s = lambda m, h, k: {"modes": (m, 0.1, 10), "hq": (h, 0.1, 10), "kl": (k, 0.001, 10)}  # noqa: E731
    lines = verdicts({"zoo_ring": {"gan": s(6.0, 98.0, 0.4)},
                      "zoo_grid": {"gan": s(17.0, 94.0, 0.7), "best": s(24.9, 94.0, 0.03),
                                   "almost": s(24.9, 93.0, 0.03)}})
    text = "\n".join(lines)
    assert "zoo_ring: plain NS GAN (PacGAN's networks) recovers 6 ± 0.1 (n=10) of 8 modes: reproduces" in text
    assert "best entry best" in text and "beats it on 3 of 3 (all three)" in text
    assert "almost vs NS GAN: modes helped" in text and "hq hurt" in text
    assert "kl helped (0.7 ± 0.001 (n=10) -> 0.03 ± 0.001 (n=10))" in text  # lower KL is better
    lines = verdicts({"zoo_grid": {"gan": s(25.0, 94.0, 0.03)}})
    assert "does NOT fail" in lines[0]



def test_run_time_per_seed_per_entry():
    def run(row, seed, clock, state="finished"):
        return Run(path=None, seed=seed, table="zoo_grid", row=row, state=state,
                   status={"wall_clock_s": clock, "iterations": 2000})

    lines = run_times([run("gan", 0, 60.0), run("gan", 1, 90.0), run("pacgan4", 0, 150.0),
                       run("pacgan4", 1, 999.0, state="running")])  # an unfinished run has no run time yet
    assert lines == ["- zoo_grid gan: 75 s per seed (min 60, max 90, n=2), 2000 iterations",
                     "- zoo_grid pacgan4: 150 s per seed (min 150, max 150, n=1), 2000 iterations"]

"""The R3GAN paper's claims, and a verdict on each computed from the numbers of a reproduced table.

Each :class:`Claim` names the paper's statement, where it is made, the tables that test it and a judge: a
function of the table's per-row statistics (:class:`RowStats`, built by :func:`row_stats` from the same runs
the table shows) that returns a :class:`Verdict`. A verdict is one of

- ``consistent with the paper``: the numbers show the paper's direction beyond the seeds' 95 % intervals;
- ``not reproduced at this scale``: they do not (a tie, overlapping intervals, or the opposite order);
- ``not tested yet``: too few finished seeds (fewer than 2 in a row the claim compares).

and carries the numbers it was decided on. Nothing here is written by hand per run: rerun the sweep and the
verdict changes with the numbers. Source of the claims: Huang et al., "The GAN is dead; long live the GAN!"
(NeurIPS 2024), Sec. 2 (theory), Table 1 (StackedMNIST loss ablation), Table 2 (roadmap).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from gan_zoo.paper_tables import metric_base
from gan_zoo.report.runs import Run, metric_series

CONSISTENT = "consistent with the paper"
NOT_REPRODUCED = "not reproduced at this scale"
NOT_TESTED = "not tested yet"
LOWER_IS_BETTER = {"fd", "fid", "kl", "kid"}


@dataclass
class RowStats:
    """One row of a table (its variants pooled for failure counts only): per metric the finished seeds'
    last values; how many runs diverged and how many there are."""

    values: dict[str, list[float]] = field(default_factory=dict)
    diverged: int = 0
    runs: int = 0

    def mean_ci(self, metric: str) -> tuple[float, float] | None:
        from gan_zoo.report.table import mean_ci

        vals = self.values.get(metric, [])
        if len(vals) < 2:
            return None
        mean, half = mean_ci(vals)
        return mean, float(half or 0.0)


def row_stats(groups: dict[tuple[str, str | None], list[Run]], metrics: list[str]) -> dict[str, RowStats]:
    """Statistics per ``table.row`` of the grouped runs (what the report shows)."""
    out: dict[str, RowStats] = {}
    for (row, _variant), runs in groups.items():
        st = out.setdefault(row, RowStats())
        st.runs += len(runs)
        st.diverged += sum(r.state == "diverged" for r in runs)
        for m in metrics:
            for run in runs:
                series = metric_series(run, m) if run.state == "finished" else []
                if series and math.isfinite(series[-1]["value"]):
                    st.values.setdefault(metric_base(m), []).append(series[-1]["value"])
    return out


@dataclass(frozen=True)
class Verdict:
    claim: str
    status: str
    evidence: str


@dataclass(frozen=True)
class Claim:
    id: str
    text: str
    source: str
    judge: Callable[[dict[str, RowStats]], tuple[str, str]]


def _fmt(mc: tuple[float, float]) -> str:
    return f"{mc[0]:.4g} ± {mc[1]:.2g}"


Metric = str | tuple[str, ...]


def _measured(stats: dict[str, RowStats], rows: tuple[str, ...], metric: Metric) -> str:
    """The metric a judge compares: ``metric`` itself, or of alternatives such as ``("fid", "fd")`` (Inception
    FID at paper scale, a classifier-feature fd at CPU scale) the first one that any of ``rows`` has values of."""
    if isinstance(metric, str):
        return metric
    return next((m for m in metric if any(m in stats.get(r, RowStats()).values for r in rows)), metric[-1])


def better_than(a: str, b: str, metric: Metric, label_a: str, label_b: str):
    """Row ``a`` beats row ``b`` on ``metric`` with separated 95 % intervals (direction by the metric)."""

    def judge(stats: dict[str, RowStats]) -> tuple[str, str]:
        m = _measured(stats, (a, b), metric)
        lower = m in LOWER_IS_BETTER
        sa, sb = stats.get(a), stats.get(b)
        ma, mb = sa and sa.mean_ci(m), sb and sb.mean_ci(m)
        if not (sa and sa.runs) or not (sb and sb.runs):
            absent = " and ".join(lab for lab, st in ((label_a, sa), (label_b, sb)) if not (st and st.runs))
            return NOT_TESTED, f"{m}: {absent} not run at this scale"
        if not ma or not mb:
            return NOT_TESTED, f"{m}: {label_a} or {label_b} has fewer than 2 finished seeds"
        sign = -1.0 if lower else 1.0
        separated = sign * (ma[0] - mb[0]) > ma[1] + mb[1]
        evidence = (f"{m} ({'lower' if lower else 'higher'} is better): {label_a} {_fmt(ma)} "
                    f"(n={len(sa.values[m])}) vs {label_b} {_fmt(mb)} (n={len(sb.values[m])})")
        return (CONSISTENT if separated else NOT_REPRODUCED), evidence

    return judge


def covers_all(row: str, modes: int, label: str, fraction: float = 0.99):
    def judge(stats: dict[str, RowStats]) -> tuple[str, str]:
        st = stats.get(row)
        mc = st and st.mean_ci("modes")
        if not mc:
            return NOT_TESTED, f"modes: {label} has fewer than 2 finished seeds"
        ok = mc[0] >= fraction * modes
        return (CONSISTENT if ok else NOT_REPRODUCED), (f"modes: {label} {_fmt(mc)} of {modes} "
                                                        f"(threshold {fraction:.0%} = {fraction * modes:g})")

    return judge


def _failures(stats: dict[str, RowStats], rows: tuple[str, ...], modes: int) -> tuple[int, int, list[str]]:
    """(failed, total, per-row text): a run fails if it diverged or recovered at most half of the modes."""
    failed = total = 0
    parts = []
    for row in rows:
        st = stats.get(row)
        if st is None:
            continue
        collapsed = sum(v <= modes / 2 for v in st.values.get("modes", []))
        n = st.diverged + len(st.values.get("modes", []))
        failed, total = failed + st.diverged + collapsed, total + n
        parts.append(f"{row}: {st.diverged} diverged, {collapsed} collapsed (≤ {modes / 2:g} modes) of {n}")
    return failed, total, parts


def r1_alone_fails(rows: tuple[str, ...], modes: int, control: tuple[str, ...] = ("rpgan_r1_r2", "gan_r1_r2")):
    """Most R1-only runs fail while most of the R1 + R2 runs (the control) do not: if the control fails as
    well, the failure belongs to the scale, not to R1 alone."""

    def judge(stats: dict[str, RowStats]) -> tuple[str, str]:
        failed, total, parts = _failures(stats, rows, modes)
        c_failed, c_total, _ = _failures(stats, control, modes)
        if total < 2:
            return NOT_TESTED, "fewer than 2 finished or diverged R1-only runs"
        text = f"{failed}/{total} R1-only runs failed; " + "; ".join(parts)
        text += f"; control (R1 + R2 rows): {c_failed}/{c_total} failed"
        if c_total and c_failed * 2 >= c_total:
            return NOT_REPRODUCED, text + " as well, so the failure is not R1's"
        return (CONSISTENT if failed * 2 > total else NOT_REPRODUCED), text

    return judge


def monotone_steps(rows: tuple[str, ...], metric: Metric):
    """Every step of ``rows`` (in order) improves ``metric`` (means; each step listed).

    Rows without any run are left out (a CPU scale may run a subset, e.g. B, C (+R2), D (-skips), E): the steps
    are then between consecutive rows that were run, each the sum of Table 2's changes in between. A row that
    was run but has fewer than 2 finished seeds leaves the claim untested. Each step's text also says whether
    the two rows' 95 % intervals are separated (``sep``) or overlap (``overlap``)."""

    def judge(stats: dict[str, RowStats]) -> tuple[str, str]:
        m = _measured(stats, rows, metric)
        lower = m in LOWER_IS_BETTER
        run = [r for r in rows if r in stats and stats[r].runs]
        means = {r: stats[r].mean_ci(m) for r in run if stats[r].mean_ci(m)}
        missing = [r for r in run if r not in means]
        if missing or len(run) < 2:
            return NOT_TESTED, (f"{m}: fewer than 2 finished seeds in {', '.join(missing)}" if missing else
                                f"{m}: fewer than 2 of the rows {', '.join(rows)} were run")
        steps = []
        for prev, nxt in zip(run, run[1:]):
            d = means[nxt][0] - means[prev][0]
            sep = abs(d) > means[nxt][1] + means[prev][1]
            steps.append((prev, nxt, (d < 0) if lower else (d > 0), d, sep))
        good = sum(ok for _, _, ok, _, _ in steps)
        text = "; ".join(f"{p}→{n} {d:+.3g} {'✓' if ok else '✗'} ({'sep' if sep else 'overlap'})"
                         for p, n, ok, d, sep in steps)
        skipped = [r for r in rows if r not in run]
        text += f" (rows not run: {', '.join(skipped)})" if skipped else ""
        return (CONSISTENT if good == len(steps) else NOT_REPRODUCED), (
            f"{m}: {good}/{len(steps)} steps improve: {text}")

    return judge


def _loss_ablation_claims(prefix: str, modes: int, where: str) -> tuple[Claim, ...]:
    return (
        Claim(f"{prefix}rpgan_beats_gan", "RpGAN + R1 + R2 covers more modes than GAN + R1 + R2 "
              "(Table 1: 1000 vs 693 of 1000)", f"R3GAN Table 1; tested on {where}",
              better_than("rpgan_r1_r2", "gan_r1_r2", "modes", "RpGAN + R1 + R2", "GAN + R1 + R2")),
        Claim(f"{prefix}rpgan_kl", "RpGAN + R1 + R2 has a lower reverse KL than GAN + R1 + R2 (0.0781 vs 0.9270)",
              f"R3GAN Table 1; tested on {where}",
              better_than("rpgan_r1_r2", "gan_r1_r2", "kl", "RpGAN + R1 + R2", "GAN + R1 + R2")),
        Claim(f"{prefix}rpgan_full", f"RpGAN + R1 + R2 covers all modes (Table 1: 1000 of 1000; here {modes})",
              f"R3GAN Table 1; tested on {where}", covers_all("rpgan_r1_r2", modes, "RpGAN + R1 + R2")),
        Claim(f"{prefix}r1_alone_fails", "R1 alone fails: RpGAN + R1 and GAN + R1 diverge (every γ, 0.1-100)",
              f"R3GAN Table 1; tested on {where}", r1_alone_fails(("rpgan_r1", "gan_r1"), modes)),
    )


def _stacked_small_d_claims(table: str, size: str) -> tuple[Claim, ...]:
    """PacGAN Table 3 (with Metz et al.'s unrolled rows) at D = ``size`` of G, its numbers read from the table."""
    from gan_zoo.paper_tables import PAPER_TABLES

    paper = PAPER_TABLES[table]
    d, u, p = ((paper.value(r, "modes").text, paper.value(r, "kl").text) for r in ("dcgan", "unrolled_5", "pacdcgan4"))
    where = f"PacGAN Table 3, D = {size} G; tested on stacked digits"
    return (
        Claim(f"stacked_{size}_unrolled_modes", f"Unrolling D 5 steps covers more modes than DCGAN ({u[0]} vs {d[0]})",
              where, better_than("unrolled_5", "dcgan", "modes", "Unrolled, 5 steps", "DCGAN")),
        Claim(f"stacked_{size}_pac4_modes", f"PacDCGAN4 covers more modes than DCGAN ({p[0]} vs {d[0]})", where,
              better_than("pacdcgan4", "dcgan", "modes", "PacDCGAN4", "DCGAN")),
        Claim(f"stacked_{size}_pac4_kl", f"PacDCGAN4 has a lower reverse KL than DCGAN ({p[1]} vs {d[1]})", where,
              better_than("pacdcgan4", "dcgan", "kl", "PacDCGAN4", "DCGAN")),
        Claim(f"stacked_{size}_pac4_vs_unrolled", f"PacDCGAN4 covers more modes than Unrolled, 5 steps ({p[0]} vs "
              f"{u[0]})", where, better_than("pacdcgan4", "unrolled_5", "modes", "PacDCGAN4", "Unrolled, 5 steps")),
    )


ROADMAP_STEPS = ("B", "C_rpgan", "C_r2", "D_resnet", "D_no_skips", "E_grouped", "E_inverted")
# Table 2 is judged on Inception FID where the runs measured it (experiment=roadmap/ffhq256/...) and on the
# classifier-feature fd of the CPU scales otherwise.
FD = ("fid", "fd")

# table name -> the claims its numbers test
CLAIMS: dict[str, tuple[Claim, ...]] = {
    "r3gan_loss_ablation": _loss_ablation_claims("smnist_", 1000, "StackedMNIST-style stacked data"),
    "r3gan_toy2d_ablation_ring": _loss_ablation_claims("ring_", 8, "the 2-D ring (8 modes)"),
    "r3gan_toy2d_ablation_grid": _loss_ablation_claims("grid_", 25, "the 2-D grid (25 modes)"),
    "zoo_stacked_quarter": _stacked_small_d_claims("zoo_stacked_quarter", "1/4"),
    "zoo_stacked_half": _stacked_small_d_claims("zoo_stacked_half", "1/2"),
    "r3gan_roadmap": (
        Claim("roadmap_e_beats_b", "Config E beats the stripped baseline B (FID 7.045 vs 12.46)", "R3GAN Table 2",
              better_than("E_inverted", "B", FD, "E (+inverted bottleneck)", "B")),
        Claim("roadmap_e_beats_a", "Config E beats StyleGAN2, config A (FID 7.045 vs 7.516)", "R3GAN Table 2",
              better_than("E_inverted", "A", FD, "E (+inverted bottleneck)", "A")),
        Claim("roadmap_steps", "Every roadmap step from B to E lowers FID (12.46 → 7.045)", "R3GAN Table 2",
              monotone_steps(ROADMAP_STEPS, FD)),
    ),
}


def claims_for(table: str) -> tuple[Claim, ...]:
    return CLAIMS.get(table, ())


def verdicts(table: str, stats: dict[str, RowStats]) -> list[Verdict]:
    out = []
    for claim in claims_for(table):
        status, evidence = claim.judge(stats)
        out.append(Verdict(claim.text, status, evidence))
    return out


def verdict_lines(vs: list[Verdict]) -> list[str]:
    return [f"{v.status}: {v.claim}. Evidence: {v.evidence}." for v in vs]

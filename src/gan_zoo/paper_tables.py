"""The R3GAN paper's published numbers as data, so a report can set the user's own runs beside them.

Source of every number: Huang, Gokaslan, Kuleshov, Tompkin, "The GAN is dead; long live the GAN! A Modern GAN
Baseline", NeurIPS 2024 (arXiv 2501.05441): Table 1 (StackedMNIST loss ablation), Table 2 (the A-to-E
roadmap on FFHQ-256) and Table 9 (parameter counts). Values are kept exactly as printed (``PaperValue.text``)
so the report shows the paper's own precision; ``PaperValue.value`` is the float used for differences.

Row ids (``PaperRow.row``) are the ones experiment configs put in ``table.row``; ``PaperTable.name`` is what
they put in ``table.name``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PAPER = "Huang et al., The GAN is dead; long live the GAN! A Modern GAN Baseline, NeurIPS 2024"

# Our metric names carry their extractor and data in brackets ("modes[classifier:stacked_fmnist]"); the
# part before the bracket says which paper metric they stand for. A Frechet distance on other features
# ("fd") is set beside the paper's FID for orientation only.
METRIC_ALIASES = {"fid": "fid", "fd": "fid", "modes": "modes", "kl": "kl", "reverse_kl": "kl"}


def metric_base(name: str) -> str:
    """``"modes[classifier:stacked_fmnist]"`` -> ``"modes"``: the metric's name without its provenance."""
    return name.split("[", 1)[0].strip().lower()


@dataclass(frozen=True)
class PaperValue:
    """One published number as printed; ``value`` is None for a non-number such as "diverged"."""

    text: str

    @property
    def value(self) -> float | None:
        try:
            return float(self.text)
        except ValueError:
            return None


@dataclass(frozen=True)
class PaperRow:
    """A row of a paper table: its config row id, the paper's label and change, numbers and G/D sizes."""

    row: str
    label: str
    change: str
    values: dict[str, PaperValue] = field(default_factory=dict)
    g_params_m: float | None = None  # millions, as printed in the paper
    d_params_m: float | None = None
    note: str = ""


@dataclass(frozen=True)
class PaperTable:
    """A table of the paper: where it comes from, which metrics it reports and its rows in paper order."""

    name: str
    paper: str
    table: str
    title: str
    protocol: str  # how the paper measured its metric, named in the "not FID" caption
    metrics: tuple[str, ...]
    rows: tuple[PaperRow, ...]

    @property
    def source(self) -> str:
        return f"{self.paper}, {self.table}"

    def row(self, row_id: str) -> PaperRow | None:
        return next((r for r in self.rows if r.row == row_id), None)

    def paper_metric(self, metric: str) -> str | None:
        """The paper metric our metric ``metric`` is compared with, or None when the table has none."""
        base = METRIC_ALIASES.get(metric_base(metric))
        return base if base in self.metrics else None

    def value(self, row_id: str, metric: str) -> PaperValue | None:
        paper_row, paper_metric = self.row(row_id), self.paper_metric(metric)
        if paper_row is None or paper_metric is None:
            return None
        return paper_row.values.get(paper_metric)


def _fid(text: str) -> dict[str, PaperValue]:
    return {"fid": PaperValue(text)}


# Table 2. Rows C (+RpGAN) and C (+R2) change only the loss, so the paper prints their sizes "as B".
R3GAN_ROADMAP = PaperTable(
    name="r3gan_roadmap",
    paper=PAPER,
    table="Table 2",
    title="Roadmap from StyleGAN2 (A) to R3GAN (E), FFHQ-256, unconditional, D shown 5 M real images",
    protocol="Inception FID on FFHQ-256",
    metrics=("fid",),
    rows=(
        PaperRow("A", "A", "StyleGAN2 (official)", _fid("7.516"), 24.767, 24.001),
        PaperRow("B", "B", "stripped StyleGAN2", _fid("12.46"), 18.890, 23.996),
        PaperRow("C_rpgan", "C (+RpGAN)", "+ RpGAN loss", _fid("11.77"), 18.890, 23.996, note="as B"),
        PaperRow("C_r2", "C (+R2)", "+ R2 penalty", _fid("11.65"), 18.890, 23.996, note="as B"),
        PaperRow("D_resnet", "D (+ResNet-ify)", "+ ResNet-ify G and D", _fid("10.17"), 23.400, 23.282),
        PaperRow("D_no_skips", "D (-output skips)", "- output skips", _fid("9.950"), 23.378, 23.282),
        PaperRow("E_grouped", "E (+grouped conv)", "+ ResNeXt-ify (grouped 3x3 conv)", _fid("7.507"),
                 23.188, 23.091),
        PaperRow("E_inverted", "E (+inverted bottleneck)", "+ inverted bottleneck", _fid("7.045"),
                 23.058, 23.010),
    ),
)

# Table 1. The R1-only rows diverged for every gamma the paper tried (0.1 to 100): no numbers exist.
_DIVERGED = {"modes": PaperValue("diverged"), "kl": PaperValue("diverged")}
R3GAN_LOSS_ABLATION = PaperTable(
    name="r3gan_loss_ablation",
    paper=PAPER,
    table="Table 1",
    title="Loss ablation on StackedMNIST (1000 modes), small ResNet G and D without normalisation",
    protocol="modes and reverse KL by a pretrained MNIST classifier on StackedMNIST",
    metrics=("modes", "kl"),
    rows=(
        PaperRow("rpgan_r1_r2", "RpGAN + R1 + R2", "RpGAN + R1 + R2",
                 {"modes": PaperValue("1000"), "kl": PaperValue("0.0781")}),
        PaperRow("gan_r1_r2", "GAN + R1 + R2", "GAN + R1 + R2",
                 {"modes": PaperValue("693"), "kl": PaperValue("0.9270")}),
        PaperRow("rpgan_r1", "RpGAN + R1", "RpGAN + R1", dict(_DIVERGED), note="diverged for gamma 0.1-100"),
        PaperRow("gan_r1", "GAN + R1", "GAN + R1", dict(_DIVERGED), note="diverged for gamma 0.1-100"),
    ),
)

# Table 9: config E's parameter counts per preset (no metric; a size check for model configs).
R3GAN_PARAM_COUNTS = PaperTable(
    name="r3gan_param_counts",
    paper=PAPER,
    table="Table 9",
    title="Parameter counts of config E per preset",
    protocol="parameter counts",
    metrics=(),
    rows=(
        PaperRow("cifar10_cond", "CIFAR-10 conditional", "config E", {}, 20.782, 21.281),
        PaperRow("cifar10_uncond", "CIFAR-10 unconditional", "config E", {}, 20.732, 20.684),
        PaperRow("ffhq64", "FFHQ-64", "config E", {}, 22.430, 22.381),
        PaperRow("ffhq256", "FFHQ-256", "config E", {}, 23.058, 23.010),
        PaperRow("imagenet32", "ImageNet-32", "config E", {}, 82.914, 86.549),
        PaperRow("imagenet64", "ImageNet-64", "config E", {}, 103.570, 107.205),
    ),
)

PAPER_TABLES: dict[str, PaperTable] = {
    t.name: t for t in (R3GAN_ROADMAP, R3GAN_LOSS_ABLATION, R3GAN_PARAM_COUNTS)
}

"""The R3GAN paper's published numbers.

Source of every number: Huang, Gokaslan, Kuleshov, Tompkin, "The GAN is dead; long live the GAN! A Modern GAN
Baseline", NeurIPS 2024 (arXiv 2501.05441): Table 1 (StackedMNIST loss ablation), Table 2 (the A-to-E
roadmap on FFHQ-256) and Table 9 (parameter counts).
"""

from __future__ import annotations

from gan_zoo.paper_tables.base import PaperRow, PaperTable, PaperValue

PAPER = "Huang et al., The GAN is dead; long live the GAN! A Modern GAN Baseline, NeurIPS 2024"


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

TABLES = (R3GAN_ROADMAP, R3GAN_LOSS_ABLATION, R3GAN_PARAM_COUNTS)

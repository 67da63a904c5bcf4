"""BigGAN's Table 1 (ablations on ImageNet 128 px) as data.

Source: Brock, Donahue, Simonyan, "Large Scale GAN Training for High Fidelity Natural Image Synthesis", ICLR
2019 (arXiv 1809.11096), Table 1, as transcribed in shared/reference/biggan.md section 1 (values marked
unverified there: the paper's PDF could not be read in that session; rows 1, the ratios quoted in Sec. 3 and
the parameter column were cross-checked). FID/IS are TF-Inception on ImageNet 128 px; "Itr" is the iteration
(thousands) of the checkpoint scored (1000 = stable to 1M iterations, else just before collapse).
The sizes: the paper prints the total G + D in millions; G/D are given where BigGAN-PyTorch's architecture
reproduces them (rows 8 and 9; tests/biggan/test_architecture.py), else the row notes the total.
"""

from __future__ import annotations

from gan_zoo.paper_tables.base import PaperRow, PaperTable, PaperValue

PAPER = "Brock et al., Large Scale GAN Training for High Fidelity Natural Image Synthesis, ICLR 2019"


def _v(fid: str, is_: str) -> dict[str, PaperValue]:
    return {"fid": PaperValue(fid), "is": PaperValue(is_)}


BIGGAN_TABLE1 = PaperTable(
    name="biggan_table1",
    paper=PAPER,
    table="Table 1",
    title="Ablations: batch, width, shared embedding, skip-z, orthogonal regularisation (ImageNet 128x128)",
    protocol="TF-Inception FID / IS on ImageNet 128 px, 50k samples, batch 256-2048, up to 1M iterations",
    metrics=("fid", "is"),
    rows=(
        PaperRow("1", "1", "SA-GAN baseline, batch 256, ch 64", _v("18.65", "52.52"), note="81.5 M; Itr 1000k"),
        PaperRow("2", "2", "batch 512", _v("15.30", "58.77"), note="81.5 M; Itr 1000k; IS ±1.18"),
        PaperRow("3", "3", "batch 1024", _v("14.88", "63.03"), note="81.5 M; Itr 1000k; IS ±1.42"),
        PaperRow("4", "4", "batch 2048", _v("12.39", "76.85"), note="81.5 M; Itr 732k; IS ±3.83"),
        PaperRow("5", "5", "ch 96", _v("9.54", "92.98"), note="173.5 M; Itr 295k; FID ±0.62, IS ±4.27"),
        PaperRow("6", "6", "+ shared embedding", _v("9.18", "94.94"), note="160.6 M; Itr 185k; FID ±0.13"),
        PaperRow("7", "7", "+ skip-z", _v("8.73", "98.76"), note="158.3 M; Itr 152k; FID ±0.45"),
        PaperRow("8", "8", "+ ortho reg (BigGAN)", _v("8.51", "99.31"), 70.434, 87.982,
                 note="158.3 M; Itr 165k; FID ±0.32, IS ±2.10"),
        PaperRow("9", "9", "row 8 at ch 64", _v("10.48", "86.90"), 31.979, 39.448, note="71.3 M; Itr 371k"),
    ),
)

TABLES = (BIGGAN_TABLE1,)

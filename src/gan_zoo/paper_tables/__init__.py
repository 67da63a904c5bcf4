"""Published tables as data (one module per paper), by name: ``PAPER_TABLES[table.name]``.

A new paper's tables: a module here defining ``TABLES`` (a tuple of :class:`PaperTable`), added to the tuple
below.
"""

from gan_zoo.paper_tables import biggan, r3gan, zoo
from gan_zoo.paper_tables.base import METRIC_ALIASES, PaperRow, PaperTable, PaperValue, metric_base
from gan_zoo.paper_tables.biggan import BIGGAN_TABLE1
from gan_zoo.paper_tables.r3gan import PAPER, R3GAN_LOSS_ABLATION, R3GAN_PARAM_COUNTS, R3GAN_ROADMAP

PAPER_TABLES: dict[str, PaperTable] = {t.name: t for module in (r3gan, biggan, zoo) for t in module.TABLES}

__all__ = ["BIGGAN_TABLE1", "METRIC_ALIASES", "PAPER", "PAPER_TABLES", "PaperRow", "PaperTable", "PaperValue",
           "R3GAN_LOSS_ABLATION", "R3GAN_PARAM_COUNTS", "R3GAN_ROADMAP", "metric_base"]

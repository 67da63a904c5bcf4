"""One self-contained HTML page per study: captions (with the scale), tables, the claims' verdicts, curves and
sample grids embedded as ``data:`` URIs, so the file opens from disk in any browser with nothing beside it.

No template engine: the page is a few lines of escaped string formatting (``html.escape`` on every text).
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

STYLE = """body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #bbb;padding:3px 6px;font-size:13px}th{background:#eee}img{max-width:100%;margin:4px}
.consistent{color:#06681c;font-weight:bold}.not-reproduced{color:#a40000;font-weight:bold}.not-tested{color:#777}
figure{display:inline-block;margin:4px;vertical-align:top}figcaption{font-size:12px}"""


@dataclass
class Section:
    title: str
    captions: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    verdicts: list = field(default_factory=list)  # gan_zoo.report.claims.Verdict
    images: list[tuple[str, Path]] = field(default_factory=list)  # (caption, PNG path)


def data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def _css_class(status: str) -> str:
    return {"consistent with the paper": "consistent", "not reproduced at this scale": "not-reproduced"}.get(
        status, "not-tested")


def _section(s: Section) -> str:
    e = html.escape
    out = [f"<h2>{e(s.title)}</h2>"]
    items: list[str] = []  # consecutive "- " captions render as one bulleted list
    for c in [*s.captions, ""]:
        if c.startswith("- "):
            items.append(f"<li>{e(c[2:])}</li>")
            continue
        if items:
            out.append("<ul>" + "".join(items) + "</ul>")
            items = []
        if c:
            out.append(f"<p>{e(c)}</p>")
    if s.header:
        out.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in s.header) + "</tr></thead><tbody>")
        out += ["<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in s.rows]
        out.append("</tbody></table>")
    if s.verdicts:
        out.append("<h3>Claims</h3><ul class='verdicts'>")
        out += [f"<li><span class='{_css_class(v.status)}'>{e(v.status)}</span>: {e(v.claim)}. "
                f"<small>{e(v.evidence)}</small></li>" for v in s.verdicts]
        out.append("</ul>")
    for caption, path in s.images:
        if Path(path).is_file():
            out.append(f"<figure><img alt='{e(caption)}' src='{data_uri(path)}'>"
                       f"<figcaption>{e(caption)}</figcaption></figure>")
    return "\n".join(out)


def page(title: str, sections: list[Section]) -> str:
    body = "\n".join(_section(s) for s in sections)
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n")


def write_html(path: Path, title: str, sections: list[Section]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(title, sections), encoding="utf-8")
    return path


def latest_sample(run_path: Path) -> Path | None:
    """The last sample grid (or 2-D scatter) a run wrote, by the images-shown number in its name."""
    files = sorted((Path(run_path) / "samples").glob("*.png"))
    return files[-1] if files else None


def report_section(report, title: str | None = None, curves: Path | None = None) -> Section:
    """A :class:`gan_zoo.report.table.Report` as a section: its table, verdicts, curves and one sample grid per
    row (the first seed that wrote one)."""
    images: list[tuple[str, Path]] = []
    if curves is not None:
        images.append((f"{report.name}: metric vs kimg per seed", curves))
    by_row = next(iter(report.curves.values()), {})
    for label, runs in by_row.items():
        for run in runs:
            grid = latest_sample(run.path)
            if grid is not None:
                images.append((f"{label}, seed {run.seed}: {grid.name}", grid))
                break
    return Section(title or report.name, list(report.caption), list(report.header), [list(r) for r in report.rows],
                   list(report.verdicts), images)

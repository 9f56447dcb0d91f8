"""HTML building blocks: one self-contained page (inline CSS, figures as base64 PNG, no external links).

The markup lives in Jinja2 templates (``templates/``) with autoescaping on: every value a template receives
is escaped unless it is :class:`markupsafe.Markup` (the fragments these functions return).
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from jinja2 import Environment, PackageLoader
from markupsafe import Markup, escape

_ENV = Environment(loader=PackageLoader("aekit.report", "templates"), autoescape=True, trim_blocks=True,
                   lstrip_blocks=True, keep_trailing_newline=True)


@dataclass
class Section:
    id: str
    title: str
    body: str  # HTML


def esc(value) -> str:
    return str(escape(str(value)))


def macro(name: str, *args) -> Markup:
    """A macro of ``templates/parts.html``, rendered with autoescaping."""
    return Markup(getattr(_ENV.get_template("parts.html").module, name)(*args))


def figure_uri(ax, dpi: int = 100) -> str:
    """The figure holding ``ax`` as a PNG data URI."""
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def figure(ax, alt: str, caption: str = "") -> str:
    return macro("figure", figure_uri(ax), alt, caption)


def table(rows: Iterable[Sequence], header: Optional[Sequence[str]] = None, cls: str = "") -> str:
    return macro("table", [list(r) for r in rows], header, cls)


def key_values(rows: Iterable[Sequence]) -> str:
    """Two-column table with the names as row headers."""
    return macro("key_values", [tuple(r) for r in rows])


def page(title: str, meta: str, sections: Sequence[Section]) -> str:
    """The whole page; each section's body is trusted HTML built from the escaped fragments above."""
    parts = [Section(s.id, s.title, Markup(s.body)) for s in sections]
    return _ENV.get_template("page.html").render(title=title, meta=meta, sections=parts, css=Markup(CSS))


CSS = """
:root { --fg: #1d2330; --muted: #667085; --line: #d9dde5; --bg: #ffffff; --panel: #f6f7f9; --accent: #1f5fbf; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header, main, footer { max-width: 1180px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 18px; border-bottom: 1px solid var(--line); }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h4 { margin: 0 0 6px; font-size: 13px; }
.meta, .note, figcaption, .aekit-note, .aekit-muted, footer { color: var(--muted); }
nav { display: flex; flex-wrap: wrap; gap: 4px 14px; padding: 8px 0 12px; }
nav a { color: var(--accent); text-decoration: none; }
footer { padding: 24px 20px 40px; font-size: 12px; }
.row { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.row > * { flex: 1 1 340px; min-width: 0; }
figure { margin: 0 0 12px; }
figure img { max-width: 100%; height: auto; display: block; border: 1px solid var(--line); }
table { border-collapse: collapse; margin: 0 0 12px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
table.kv th { width: 15em; }
td.num, table.num td { font-variant-numeric: tabular-nums; }
details { margin: 4px 0 12px; } summary { cursor: pointer; color: var(--accent); }
.aekit-explorer { border: 1px solid var(--line); border-radius: 6px; padding: 10px; background: #fff; }
.aekit-toolbar { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; margin-bottom: 8px; }
.aekit-hint { color: var(--muted); font-size: 12px; }
.aekit-main { display: flex; gap: 12px; align-items: stretch; }
.aekit-plot { flex: 1 1 auto; min-width: 0; width: 100%; height: 520px; cursor: crosshair; touch-action: none; }
.aekit-panel { flex: 0 0 250px; background: var(--panel); border-radius: 6px; padding: 10px; font-size: 12px; overflow: auto; max-height: 520px; }
.aekit-panel > div { margin-bottom: 12px; }
.aekit-thumb { image-rendering: pixelated; border: 1px solid var(--line); background: #fff; display: block; margin-bottom: 6px; }
.aekit-panel dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 8px; margin: 0; }
.aekit-panel dt { color: var(--muted); }
.aekit-panel dd { margin: 0; font-variant-numeric: tabular-nums; word-break: break-word; }
.aekit-values { font-size: 11px; }
.aekit-legend { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 6px; margin-bottom: 8px; min-height: 22px; }
.aekit-legend-title { color: var(--muted); font-size: 12px; }
.aekit-legend-item { display: inline-flex; align-items: center; gap: 4px; padding: 1px 6px; border: 1px solid var(--line); border-radius: 10px; background: #fff; cursor: pointer; font: inherit; }
.aekit-legend-item.aekit-off { opacity: 0.35; }
.aekit-swatch { width: 10px; height: 10px; border-radius: 50%; display: inline-block; }
.aekit-ramp { display: inline-block; width: 160px; height: 10px; border-radius: 3px; background: linear-gradient(90deg, #440154, #3b528b, #21918c, #5ec962, #fde725); }
@media (max-width: 800px) { .aekit-main { flex-direction: column; } .aekit-panel { flex-basis: auto; max-height: none; } }
"""

"""HTML building blocks: one self-contained page (inline CSS, figures as base64 PNG, no external links)."""
from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence


@dataclass
class Section:
    id: str
    title: str
    body: str  # HTML


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def figure_uri(ax, dpi: int = 100) -> str:
    """The figure holding ``ax`` as a PNG data URI."""
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def figure(ax, alt: str, caption: str = "") -> str:
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="{figure_uri(ax)}" alt="{esc(alt)}">{cap}</figure>'


def table(rows: Iterable[Sequence], header: Optional[Sequence[str]] = None, cls: str = "") -> str:
    head = "<tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{esc(cls)}">{head}{body}</table>'


def key_values(rows: Iterable[Sequence]) -> str:
    """Two-column table with the names as row headers."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="kv">{body}</table>'


def page(title: str, meta: str, sections: Sequence[Section]) -> str:
    nav = " ".join(f'<a href="#{esc(s.id)}">{esc(s.title)}</a>' for s in sections)
    body = "\n".join(f'<section id="{esc(s.id)}"><h2>{esc(s.title)}</h2>\n{s.body}\n</section>' for s in sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{CSS}</style>
</head>
<body>
<header><h1>{esc(title)}</h1><p class="meta">{esc(meta)}</p><nav>{nav}</nav></header>
<main>
{body}
</main>
<footer>Written by aekit. This file is self-contained: it opens from disk and fetches nothing.</footer>
</body>
</html>
"""


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

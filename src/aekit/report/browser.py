"""Look at a report in a real browser: headless Chromium from the system (Debian: ``apt-get install chromium``),
driven by Playwright's Python package (``pip install 'aekit[browser]'``). It never downloads a browser.

Used by the browser test and by ``aekit report --screenshot``: open the page from disk, record console errors
and any attempt to reach the network, check that every figure decoded, hover a point, click-decode, screenshot.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Optional

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def find_chromium() -> Optional[str]:
    """``$AEKIT_CHROMIUM``, else the first Chromium found in the usual places or on PATH."""
    env = os.environ.get("AEKIT_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    for path in CHROMIUM_PATHS:
        if Path(path).is_file():
            return path
    return shutil.which("chromium") or shutil.which("chromium-browser")


def unavailable() -> Optional[str]:
    """Why a report cannot be opened in a browser here, or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright's Python package is not installed (pip install 'aekit[browser]')"
    if find_chromium() is None:
        return "no Chromium found (apt-get install chromium, or set AEKIT_CHROMIUM to its path)"
    return None


class ReportPage:
    """An open report: ``page`` is the Playwright page; ``problems`` lists console errors, page errors and
    requests that left the machine (each as a string)."""

    def __init__(self, page):
        self.page = page
        self.problems: list = []
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"console error: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("request", lambda r: r.url.startswith(LOCAL_SCHEMES) or self.problems.append(f"network request: {r.url}"))

    def images(self) -> dict:
        """``{"count": n, "broken": [alt texts of images that did not decode]}``."""
        return self.page.evaluate("""() => {
            const imgs = Array.from(document.images);
            return {count: imgs.length, broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt)};
        }""")

    def wait_explorer(self, timeout_ms: int = 15000) -> None:
        self.page.wait_for_function("() => window.aekitExplorers && window.aekitExplorers.length && "
                                    "window.aekitExplorers[0].ready", timeout=timeout_ms)

    def hover_point(self, timeout_ms: int = 5000) -> dict:
        """Hover a point that no other point covers; returns what the sample panel then shows."""
        self.page.locator(".aekit-plot").first.scroll_into_view_if_needed()
        target = self.page.evaluate("""() => {
            const ex = window.aekitExplorers[0];
            for (let i = 0; i < ex.n; i++) {
                const p = ex.toScreen(ex.x[i], ex.y[i]);
                if (ex.nearest(p.x, p.y) === i) { const c = ex.clientPoint(i); return {i: i, index: ex.index[i], x: c.x, y: c.y}; }
            }
            return null;
        }""")
        if target is None:
            raise AssertionError("the explorer shows no point that can be hovered")
        self.page.mouse.move(target["x"] - 20, target["y"] - 20)
        self.page.mouse.move(target["x"], target["y"], steps=4)
        self.page.wait_for_function("(index) => { const b = document.querySelector('.aekit-sample-body');"
                                    " return b && b.dataset.index === String(index); }", arg=target["index"],
                                    timeout=timeout_ms)
        return {**target, **self._panel(".aekit-sample-body")}

    def click_empty(self, timeout_ms: int = 5000) -> dict:
        """Click a spot with no point near it (inside the decoded grid); returns what the decode panel shows."""
        self.page.locator(".aekit-plot").first.scroll_into_view_if_needed()
        spot = self.page.evaluate("""() => {
            const ex = window.aekitExplorers[0], g = ex.d.grid;
            if (!g) return null;
            const r = ex.canvas.getBoundingClientRect();
            const spots = [];  // a 40 x 40 lattice over the grid, nearest to its centre first
            for (let a = 1; a < 40; a++) for (let b = 1; b < 40; b++) spots.push([a, b, (a - 20) ** 2 + (b - 20) ** 2]);
            spots.sort((u, v) => u[2] - v[2]);
            for (const [a, b] of spots) {
                const x = g.x0 + (g.x1 - g.x0) * a / 40, y = g.y0 + (g.y1 - g.y0) * b / 40, p = ex.toScreen(x, y);
                if (ex.nearest(p.x, p.y) < 0) return {x: r.left + p.x, y: r.top + p.y};
            }
            return null;
        }""")
        if spot is None:
            raise AssertionError("no decoded grid, or no empty spot inside it")
        self.page.mouse.click(spot["x"], spot["y"])
        self.page.wait_for_function("() => { const b = document.querySelector('.aekit-decoded-body');"
                                    " return b && b.dataset.cell !== undefined; }", timeout=timeout_ms)
        return self._panel(".aekit-decoded-body")

    def _panel(self, selector: str) -> dict:
        """Whether the panel shows a drawn, non-blank thumbnail (or a values table)."""
        return self.page.evaluate("""(sel) => {
            const b = document.querySelector(sel), cv = b.querySelector('canvas.aekit-thumb');
            let distinct = 0;
            if (cv && cv.dataset.drawn) {
                const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data, seen = new Set();
                for (let k = 0; k < px.length; k += 4) seen.add(px[k] * 65536 + px[k + 1] * 256 + px[k + 2]);
                distinct = seen.size;
            }
            return {text: b.innerText, thumbnail: !!cv, drawn: !!(cv && cv.dataset.drawn), distinct_colours: distinct,
                    visible: !!(cv && cv.offsetWidth > 0 && cv.offsetHeight > 0), values_table: !!b.querySelector('table')};
        }""", selector)


class Browser:
    """A headless Chromium with a fresh profile; ``open(path)`` loads a report from disk in a new page."""

    def __init__(self, context):
        self.context = context

    def open(self, path) -> ReportPage:
        page = self.context.new_page()
        report = ReportPage(page)
        page.goto(Path(path).resolve().as_uri(), wait_until="load")
        return report


@contextlib.contextmanager
def browser(width: int = 1280, height: int = 900, chromium: Optional[str] = None):
    """Start headless Chromium (the system's; never a downloaded one) with a fresh profile; yields a Browser."""
    from playwright.sync_api import sync_playwright

    chromium = chromium or find_chromium()
    if chromium is None:
        raise RuntimeError(unavailable() or "no Chromium found")
    with tempfile.TemporaryDirectory(prefix="aekit-chromium-") as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=chromium, headless=True, args=LAUNCH_ARGS,
            viewport={"width": width, "height": height}, device_scale_factor=1)
        try:
            yield Browser(context)
        finally:
            context.close()


@contextlib.contextmanager
def open_report(path, width: int = 1280, height: int = 900, chromium: Optional[str] = None):
    """Open the report at ``path`` (from disk) in a browser of its own; yields a ReportPage."""
    with browser(width, height, chromium) as b:
        yield b.open(path)


def screenshot(report_path, png_path, explorer_png: Optional[str] = None, full_page: bool = True,
               using: Optional[Browser] = None) -> list:
    """Screenshot the whole report (after hovering a point, and click-decoding when it can) to ``png_path``;
    ``explorer_png`` also saves the explorer alone. ``using`` reuses a running Browser. Returns the problems
    seen (console errors, page errors, network requests)."""
    if using is None:
        with browser() as b:
            return screenshot(report_path, png_path, explorer_png, full_page, using=b)
    r = using.open(report_path)
    try:
        has_explorer = r.page.locator(".aekit-explorer").count() > 0
        if has_explorer:
            r.wait_explorer()
            if r.page.evaluate("() => !!window.aekitExplorers[0].d.grid"):
                r.click_empty()
            r.hover_point()
        r.page.screenshot(path=str(png_path), full_page=full_page)
        if explorer_png and has_explorer:
            r.page.locator(".aekit-explorer").first.screenshot(path=str(explorer_png))
        return list(r.problems)
    finally:
        r.page.close()

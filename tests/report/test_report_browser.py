"""The report in a real browser: headless Chromium from the system (Debian's ``chromium`` package), driven
by Playwright. Skips with the reason when either is missing, unless AEKIT_REQUIRE_BROWSER is set (CI sets it
once it has installed Chromium), in which case a missing browser fails."""
import os

import numpy as np
import pytest

from aekit.report.browser import browser, unavailable

WHY_NOT = unavailable()
REQUIRED = bool(os.environ.get("AEKIT_REQUIRE_BROWSER"))
# skip before any fixture builds a report; when required, the chromium fixture fails instead
pytestmark = pytest.mark.skipif(bool(WHY_NOT) and not REQUIRED, reason=str(WHY_NOT))


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for the module (starting it is the slow part); each test opens its own pages."""
    if WHY_NOT:
        pytest.fail(f"AEKIT_REQUIRE_BROWSER is set, but {WHY_NOT}")
    with browser() as b:
        yield b


@pytest.fixture
def open_page(chromium):
    pages = []

    def _open(path):
        pages.append(chromium.open(path))
        return pages[-1]

    yield _open
    for r in pages:
        r.page.close()


def test_report_renders_hovers_and_decodes(tiny_report, tmp_path, open_page):
    r = open_page(tiny_report)
    images = r.images()
    assert images["count"] >= 6 and images["broken"] == []  # the latent scatter is the explorer alone
    r.wait_explorer()
    hovered = r.hover_point()
    assert hovered["thumbnail"] and hovered["drawn"] and hovered["visible"]
    assert hovered["distinct_colours"] > 2  # a digit, not a blank square
    assert f"#{hovered['index']}" in hovered["text"] and "reconstruction error" in hovered["text"]
    decoded = r.click_empty()
    assert decoded["drawn"] and decoded["distinct_colours"] > 2 and "decoded at" in decoded["text"]
    r.page.mouse.wheel(0, -400)  # zoom in, then look again
    r.page.wait_for_timeout(50)
    r.page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert r.problems == []
    assert (tmp_path / "report.png").stat().st_size > 20000


def test_table_rows_show_their_values(tiny_table, tmp_path, open_page):
    from aekit.report import collect, explorer_html
    from aekit.report.html import Section, page

    est, X, names = tiny_table
    path = tmp_path / "explorer.html"
    section = Section("latent", "Latent space", explorer_html(collect(est, X, feature_names=names)))
    path.write_text(page("explorer", "", [section]), encoding="utf-8")
    r = open_page(path)
    r.wait_explorer()
    hovered = r.hover_point()
    assert hovered["values_table"] and not hovered["thumbnail"]
    assert "col 5" in hovered["text"] and "reconstruction" in hovered["text"]
    assert r.problems == []


def test_fifty_thousand_points_stay_fast(tmp_path, open_page):
    """A synthetic explorer of 50,000 points: time a full redraw and a hover look-up in the page itself."""
    from aekit.report.content import ReportContent
    from aekit.report.explorer import explorer_html
    from aekit.report.html import Section, page

    rng = np.random.default_rng(0)
    n = 50000
    y = rng.integers(0, 10, n)
    coords = rng.normal(size=(n, 2)) + y[:, None]
    c = ReportContent(title="t", settings={}, defaults={}, model={}, training=[], data=[], history={},
                      X=rng.random((n, 3), dtype=np.float32), index=np.arange(n), y=y.astype(np.int32),
                      label_names=[str(i) for i in range(10)], codes=coords, coords=coords,
                      axis_labels=("code 1", "code 2"), projection_note="synthetic", errors=rng.random(n))
    path = tmp_path / "big.html"
    path.write_text(page("big", "", [Section("latent", "Latent space", explorer_html(c))]), encoding="utf-8")
    r = open_page(path)
    r.wait_explorer()
    ms = r.page.evaluate("""() => {
        const ex = window.aekitExplorers[0], t0 = performance.now();
        for (let k = 0; k < 5; k++) ex.render();
        const t1 = performance.now();
        for (let k = 0; k < 200; k++) ex.nearest(100 + k, 200);
        return {render: (t1 - t0) / 5, hover: (performance.now() - t1) / 200};
    }""")
    hovered = r.hover_point()
    assert r.problems == []
    print(f"50k points: {ms['render']:.1f} ms per draw, {ms['hover']:.3f} ms per hover look-up")
    assert hovered["values_table"]
    # generous bounds for a shared CI machine; a smooth page needs well under 100 ms
    assert ms["render"] < 400 and ms["hover"] < 5


def test_screenshot_helper_writes_both_pictures(tiny_report, tmp_path, chromium):
    from PIL import Image

    from aekit.report.browser import screenshot

    page, explorer = tmp_path / "page.png", tmp_path / "explorer.png"
    assert screenshot(tiny_report, page, explorer_png=explorer, using=chromium) == []
    assert Image.open(page).size[1] > Image.open(explorer).size[1] > 300  # the whole page, then the explorer

import numpy as np

from aekit import plots


def test_application_plots_return_their_axes():
    rng = np.random.default_rng(0)
    ax = plots.plot_score_histogram(rng.random(50) + 0.1, (rng.random(50) > 0.8).astype(int), threshold=0.5, log=True)
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "anomaly score"
    rows = [{"method": m, "bits_per_sample": b, "psnr": 10 + b / 10} for m in ("a", "b") for b in (16, 64)]
    ax = plots.plot_rate_distortion(rows)
    assert len(ax.get_lines()) == 2
    ax = plots.plot_calibration([0.05, 0.1], [0.04, 0.11])
    assert ax.get_xlabel().startswith("alpha")

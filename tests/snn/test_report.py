"""What the SNN figures show: epochs counted as in summary.json, delays in ms, readable axes."""

from pathlib import Path

import numpy as np
import pytest

import neurosig.snn.report as report


@pytest.fixture
def figures(monkeypatch):
    drawn = []
    monkeypatch.setattr(report, "save_figure", lambda fig, path: drawn.append(fig) or Path(path))
    return drawn


def test_training_figure_counts_epochs_from_0_and_draws_delays_in_ms(figures, tmp_path):
    rows = [
        {
            "epoch": e,
            "train_accuracy": 0.5,
            "val_accuracy": 0.6,
            "train_loss": 1.0,
            "val_loss": 1.1,
            "sigma": 1.0,
        }
        for e in range(3)
    ]
    delays = {"hidden 1": np.array([[0, 2], [1, 1]])}
    report.plot_training(rows, delays, tmp_path / "t.png", dt=0.01, best_epoch=1)
    acc, loss, hist = figures[0].axes[:3]
    assert list(acc.lines[0].get_xdata()) == [0, 1, 2]
    assert [line.get_label() for line in acc.lines][-1] == "best_epoch = 1"
    assert "ms" in hist.get_xlabel()
    x = hist.patches[0].get_xy()[:, 0]  # the step outline spans the bins
    assert (x.min(), x.max()) == (pytest.approx(-5.0), pytest.approx(25.0))  # 10-ms steps 0..2
    assert all(float(t).is_integer() for t in hist.get_yticks())


def test_feast_missed_rate_axis_fits_the_data(figures, tmp_path):
    log = {
        "weights": np.zeros((2, 9)).tolist(),
        "radius": 1,
        "events": [100, 200, 300],
        "missed_events": [1, 3, 4],
        "thresholds": np.zeros((3, 2)).tolist(),
        "missed_rate": 4 / 300,
    }
    report.plot_feast(log, tmp_path / "f.png")
    missed_axis = figures[0].axes[2]
    assert missed_axis.get_ylim()[1] == pytest.approx(1.15 * 2.0)  # the worst interval: 2 %

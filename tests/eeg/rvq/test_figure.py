"""reconstruction.png states its metrics and spans only the spectra it shows."""

from pathlib import Path

import numpy as np
import pytest

from neurosig.core import figures
from neurosig.eeg.rvq.evaluate import plot_reconstruction


def test_reconstruction_figure_gives_pcc_nmse_and_a_fitted_psd_axis(tmp_path, monkeypatch):
    closed = []
    monkeypatch.setattr(figures, "save_figure", lambda fig, path, dpi=100: closed.append(fig) or Path(path))
    rng = np.random.default_rng(0)
    original = rng.standard_normal((3, 2000)) * 1e-5
    recon = original + rng.standard_normal((3, 2000)) * 5e-6
    plot_reconstruction(tmp_path / "r.png", original, {"rvq": recon}, 200.0, ["Fp1", "Fp2", "AF3"])
    fig = closed[0]
    pcc = np.corrcoef(original[0], recon[0])[0, 1]
    nmse = np.sum((recon[0] - original[0]) ** 2) / np.sum(original[0] ** 2)
    assert fig.axes[0].get_title(loc="left") == f"rvq: PCC {pcc:.2f}, NMSE {nmse:.2f}"
    assert "mean over all: rvq PCC " in fig.get_suptitle()
    low, high = fig.axes[1].get_ylim()
    assert high / low < 1e3  # white noise: the axis spans the data, not eight decades
    assert low == pytest.approx(
        min(line.get_ydata()[line.get_xdata() <= 50].min() for line in fig.axes[1].lines) / 2
    )

"""The demo's figures: EEG lanes and spectra by channel type, frames on one labelled colour scale."""

from pathlib import Path

import pytest

from neurosig.core import figures as figure_module
from neurosig.core.config import build_pipeline
from neurosig.plotting import plot_frames_file, plot_signal_file


@pytest.fixture
def closed(monkeypatch):
    """The figures the plotting functions save, kept for inspection."""
    drawn = []
    monkeypatch.setattr(
        figure_module, "save_figure", lambda fig, path, dpi=100: drawn.append(fig) or Path(path)
    )
    return drawn


def _run(tmp_path, source, stages=()):
    out = tmp_path / "out.h5"
    build_pipeline(
        {"source": source, "stages": list(stages), "sink": {"type": "hdf5", "path": str(out)}}
    ).run()
    return out


def test_eog_gets_its_own_lane_and_stays_out_of_the_eeg_spectra(tmp_path, closed):
    path = _run(
        tmp_path, {"type": "simulate", "duration": 12.0, "sfreq": 128.0, "n_channels": 19, "eog": True}
    )
    plot_signal_file(path, tmp_path / "eeg.png")
    traces, spectra = closed[0].axes
    labels = [t.get_text() for t in traces.texts]
    assert labels[-2].startswith("VEOG (EOG) ×") and labels[-1].endswith(" µV")  # lane, scale bar
    assert len(spectra.lines) == 19 + 1  # every EEG channel and their median, no VEOG
    assert spectra.get_title() == "power spectra (19 EEG channels)"


def test_frames_share_one_labelled_colour_scale_and_give_their_duration(tmp_path, closed):
    path = _run(
        tmp_path,
        {"type": "simulate_events", "duration": 0.2, "width": 32, "height": 24, "seed": 1},
        [{"type": "to_frames", "time_window": 10000}],
    )
    plot_frames_file(path, tmp_path / "frames.png", n_frames=4)
    fig = closed[0]
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 4 and len({im.get_clim() for im in images}) == 1
    assert fig.axes[-1].get_ylabel() == "ON − OFF events per pixel"
    assert "frames of 10 ms each" in fig.get_suptitle()

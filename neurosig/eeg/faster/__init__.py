"""FASTER: fully automated statistical thresholding for EEG artifact rejection.

Nolan, Whelan & Reilly (2010), J Neurosci Methods 192:152–162. Four steps, each computes a few metrics
per item, turns every metric into z-scores and flags items with ``|z| > threshold``:

============================ ==================================== ==============================
step                         items                                paper metrics
============================ ==================================== ==============================
1 ``channels``               channels (epochs joined in time)     correlation, variance, Hurst
2 ``epochs``                 epochs (good channels)               amplitude, variance, deviation
3 ``components``             ICA components                       EOG correlation, kurtosis,
                                                                  spectral slope, Hurst, gradient
4 ``channels_in_epochs``     channels, separately in each epoch   variance, gradient, amplitude,
                                                                  deviation
============================ ==================================== ==============================

Two metric profiles (``metrics=``):

``"paper"`` (default)
    The paper's definitions: z = (x − median) / std (sample std), mean ``|r|`` correlation, Hurst by
    dispersional analysis, signed median gradient, absolute deviation, spectral slope in dB/Hz
    over the pass band.
``"mne-faster"``
    The mne-faster 1.2.2 package's metric set and definitions, giving the same decisions: mean-centred
    z with population std, signed correlation, Hurst from second differences, median ``|diff|``,
    signed deviation, mean first difference of the linear Welch spectrum, plus kurtosis and line
    noise (50 + 60 Hz) where mne-faster has them.

One orchestration, :class:`~neurosig.eeg.faster.model.FasterModel`, chains the steps: it learns
steps 1–3 from a set of epochs and applies step 4 and the interpolation to any epochs of the same
channels. :func:`run_faster` (an :class:`mne.Epochs` in, the cleaned epochs and a :class:`FasterReport`
out; ICA seeded by ``random_state``, channels interpolated with spherical splines as MNE's
``interpolate_bads`` computes them, :class:`SphericalSplines`), the stages ``faster`` and ``faster_online``,
:class:`~neurosig.bci.preprocessing.FasterCleaner` and the ``faster`` cleaning of
:mod:`neurosig.data.denoise` all use it.

Bad input: NaN or infinite samples and epochs in which every channel is constant raise
:class:`~neurosig.core.errors.DataError`; so do fewer than 3 usable channels or epochs. A channel that
is constant over the whole recording is flagged bad in step 1 under the metric ``"constant"`` and left
out of the other channel metrics (their z-scores would divide by zero).

Modules (this package re-exports their public names, so ``from neurosig.eeg.faster import ...``
reaches all of FASTER):

- :mod:`~neurosig.eeg.faster.metrics`: the profiles (:class:`Profile`, :data:`PROFILES`) and the
  per-item metrics of each step (:func:`channel_metrics`, :func:`epoch_metrics`,
  :func:`component_metrics`, :func:`channel_in_epoch_metrics`, :func:`eog_correlation`);
- :mod:`~neurosig.eeg.faster.steps`: the outlier rule (:func:`find_outliers`) and the four step
  functions on arrays;
- :mod:`~neurosig.eeg.faster.model`: seeded ICA, spherical-spline interpolation,
  :class:`FasterModel` and :func:`run_faster`;
- :mod:`~neurosig.eeg.faster.report`: :class:`StepResult` and :class:`FasterReport`;
- :mod:`~neurosig.eeg.faster.stages`: the stages ``faster`` and ``faster_online`` (not re-exported).
"""

from neurosig.eeg.faster.metrics import (
    LINE_FREQS,
    PROFILES,
    Profile,
    channel_in_epoch_metrics,
    channel_means,
    channel_metrics,
    component_metrics,
    eog_correlation,
    epoch_metrics,
)
from neurosig.eeg.faster.model import (
    FasterModel,
    SphericalSplines,
    find_bad_components_ica,
    fit_ica,
    interpolate_channels_in_epochs,
    interpolation_matrix,
    run_faster,
)
from neurosig.eeg.faster.report import FasterReport, StepResult
from neurosig.eeg.faster.steps import (
    STEPS,
    find_bad_channels,
    find_bad_channels_in_epochs,
    find_bad_components,
    find_bad_epochs,
    find_outliers,
)

__all__ = [
    "Profile",
    "PROFILES",
    "STEPS",
    "LINE_FREQS",
    "find_outliers",
    "StepResult",
    "FasterReport",
    "channel_metrics",
    "epoch_metrics",
    "component_metrics",
    "channel_in_epoch_metrics",
    "channel_means",
    "find_bad_channels",
    "find_bad_epochs",
    "find_bad_components",
    "find_bad_channels_in_epochs",
    "eog_correlation",
    "fit_ica",
    "find_bad_components_ica",
    "SphericalSplines",
    "interpolation_matrix",
    "interpolate_channels_in_epochs",
    "FasterModel",
    "run_faster",
]

"""FASTER: fully automated statistical thresholding for EEG artifact rejection (Nolan et al. 2010).

The public names of the package, so ``from neurosig.eeg.faster import ...`` reaches all of FASTER; see
:mod:`neurosig.eeg.faster.steps` for the method.
"""

from neurosig.eeg.faster.steps import (
    LINE_FREQS,
    PROFILES,
    STEPS,
    FasterReport,
    Profile,
    StepResult,
    channel_in_epoch_metrics,
    channel_metrics,
    component_metrics,
    eog_correlation,
    epoch_metrics,
    find_bad_channels,
    find_bad_channels_in_epochs,
    find_bad_components,
    find_bad_components_ica,
    find_bad_epochs,
    find_outliers,
    fit_ica,
    interpolate_channels_in_epochs,
    interpolation_matrix,
    run_faster,
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
    "find_bad_channels",
    "find_bad_epochs",
    "find_bad_components",
    "find_bad_channels_in_epochs",
    "eog_correlation",
    "fit_ica",
    "find_bad_components_ica",
    "interpolation_matrix",
    "interpolate_channels_in_epochs",
    "run_faster",
]

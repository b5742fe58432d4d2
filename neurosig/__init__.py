"""neurosig: streaming pipelines for EEG, event cameras and spiking networks.

Heavy dependencies (mne, torch, spikingjelly, tonic, h5py) are imported by the modules that need
them, so ``import neurosig`` and ``neurosig --help`` stay fast.
"""

from neurosig._version import __version__
from neurosig.core import (
    EVENTS_DTYPE,
    ConfigError,
    DataError,
    FormatError,
    NeurosigError,
    Pipeline,
)

__all__ = [
    "__version__",
    "EVENTS_DTYPE",
    "ConfigError",
    "DataError",
    "FormatError",
    "NeurosigError",
    "Pipeline",
]

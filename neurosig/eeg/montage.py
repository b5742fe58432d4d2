"""Standard 10-20/10-10 channel sets and their positions."""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["STANDARD_64", "channel_set", "standard_montage", "positions"]

#: The 64 channels of the PhysioNet eegmmidb recordings, in their order, with standard spelling.
STANDARD_64 = (
    "FC5 FC3 FC1 FCz FC2 FC4 FC6 C5 C3 C1 Cz C2 C4 C6 CP5 CP3 CP1 CPz CP2 CP4 CP6 Fp1 Fpz Fp2 AF7 AF3 "
    "AFz AF4 AF8 F7 F5 F3 F1 Fz F2 F4 F6 F8 FT7 FT8 T7 T8 T9 T10 TP7 TP8 P7 P5 P3 P1 Pz P2 P4 P6 P8 PO7 "
    "PO3 POz PO4 PO8 O1 Oz O2 Iz"
).split()

_STANDARD_32 = (
    "Fp1 Fp2 AF3 AF4 F7 F3 Fz F4 F8 FC5 FC1 FC2 FC6 T7 C3 Cz C4 T8 CP5 CP1 CP2 CP6 P7 P3 Pz P4 P8 "
    "PO3 PO4 O1 Oz O2"
).split()
_STANDARD_19 = "Fp1 Fp2 F7 F3 Fz F4 F8 T7 C3 Cz C4 T8 P7 P3 Pz P4 P8 O1 O2".split()


def channel_set(n_channels: int) -> list[str]:
    """Names of a standard channel set of 19, 32 or 64 channels."""
    sets = {19: _STANDARD_19, 32: _STANDARD_32, 64: STANDARD_64}
    if n_channels not in sets:
        from neurosig.core.errors import ConfigError

        raise ConfigError(f"n_channels={n_channels} has no standard set; choose one of {sorted(sets)}.")
    return list(sets[n_channels])


@functools.cache
def standard_montage():
    """MNE's template 10-05 montage (``colin27_1005`` in MNE ≥ 1.13, ``standard_1005`` before)."""
    import mne

    name = "colin27_1005" if "colin27_1005" in mne.channels.get_builtin_montages() else "standard_1005"
    return mne.channels.make_standard_montage(name)


def positions(ch_names: list[str]) -> np.ndarray:
    """Head-frame positions in metres, shape (n_channels, 3), of standard channel names."""
    pos = standard_montage().get_positions()["ch_pos"]
    lower = {k.lower(): v for k, v in pos.items()}
    missing = [n for n in ch_names if n.lower() not in lower]
    if missing:
        from neurosig.core.errors import DataError

        raise DataError(f"no standard position for channels {missing}; use 10-20/10-10 names.")
    return np.array([lower[n.lower()] for n in ch_names])

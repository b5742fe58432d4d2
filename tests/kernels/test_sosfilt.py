"""The Numba SOS kernel against scipy's sosfilt (the slow, trusted twin)."""

import numpy as np
import pytest
from scipy import signal

from neurosig.kernels.sosfilt import sos_state, sosfilt_stateful


@pytest.mark.parametrize("n_channels, n_samples", [(1, 1), (3, 1000), (64, 257)])
def test_matches_scipy_and_carries_state(n_channels, n_samples):
    rng = np.random.default_rng(n_samples)
    sos = signal.butter(4, [1, 40], "bandpass", fs=250, output="sos")
    x = rng.standard_normal((n_channels, n_samples))
    ref, zf = signal.sosfilt(sos, x, axis=1, zi=np.zeros((sos.shape[0], n_channels, 2)))
    state = sos_state(sos.shape[0], n_channels)
    half = n_samples // 2
    y = np.concatenate(
        [sosfilt_stateful(sos, x[:, :half], state), sosfilt_stateful(sos, x[:, half:], state)], axis=1
    )
    np.testing.assert_allclose(y, ref.astype(np.float32), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(state.transpose(0, 2, 1), zf, rtol=1e-10, atol=1e-12)

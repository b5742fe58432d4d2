"""The suite's array dtypes, in the leaf layer so that kernels and core share one definition."""

from typing import Any

import numpy as np

from neurosig.errors import DataError

__all__ = ["EVENTS_DTYPE", "check_events_dtype"]

#: The one events dtype of the suite: ``t`` in µs, pixel ``x``/``y``, polarity ``p`` in {0, 1}.
EVENTS_DTYPE = np.dtype([("t", "<i8"), ("x", "<u2"), ("y", "<u2"), ("p", "i1")])


def check_events_dtype(events: Any, name: str = "events") -> np.ndarray:
    """Check that ``events`` is a numpy array of :data:`EVENTS_DTYPE` and return it.

    Raises
    ------
    DataError
        Naming ``name``, the expected dtype, what came in, and the converter to use.
    """
    if not isinstance(events, np.ndarray) or events.dtype != EVENTS_DTYPE:
        got = getattr(events, "dtype", type(events).__name__)
        raise DataError(
            f"{name} must be a numpy array of neurosig.EVENTS_DTYPE {EVENTS_DTYPE.descr}, got {got}; "
            "convert with neurosig.io.events.as_events()."
        )
    return events

"""The suite's array dtypes, in the leaf layer so that kernels and core share one definition."""

import numpy as np

__all__ = ["EVENTS_DTYPE"]

#: The one events dtype of the suite: ``t`` in µs, pixel ``x``/``y``, polarity ``p`` in {0, 1}.
EVENTS_DTYPE = np.dtype([("t", "<i8"), ("x", "<u2"), ("y", "<u2"), ("p", "i1")])

"""The error hierarchy, re-exported from the leaf :mod:`neurosig.errors` under its public path."""

from neurosig.errors import ConfigError, DataError, FormatError, NeurosigError

__all__ = ["NeurosigError", "ConfigError", "DataError", "FormatError"]

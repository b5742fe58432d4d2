"""Event-camera transforms: pure functions, tonic-style transforms, and streaming stages.

- :mod:`neurosig.events.functional`: crop, downsample, polarity merge, time slice, hot pixels;
- :mod:`neurosig.events.transforms`: frozen dataclasses over those and the kernels of
  :mod:`neurosig.kernels.event_filters` and :mod:`neurosig.kernels.event_repr`;
- :mod:`neurosig.events.filters`: streaming filter stages (``EventChunk`` → ``EventChunk``);
- :mod:`neurosig.events.representations`: streaming representation stages (``EventChunk`` →
  ``SpikeChunk`` of flattened ``(T, P, H, W)`` frames, or of per-event local time-surface patches).

See ``docs/event_transforms.md``.
"""

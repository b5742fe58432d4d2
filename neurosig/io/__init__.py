"""Readers and writers: EEG files through MNE, event-camera formats, HDF5 stores."""

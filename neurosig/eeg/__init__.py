"""EEG processing: causal filters, epochs, simulation, FASTER, AT-AT, RVQ."""

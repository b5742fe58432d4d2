"""Dataset adapters: PhysioNet eegmmidb (MNE's loader), MOABB datasets, local folders, simulated
motor-imagery subjects, EEGdenoiseNet-style denoising pairs, SHD-format spike files, tonic's event
datasets, and the manifests in ``datasets/`` (:mod:`neurosig.data.manifest`)."""

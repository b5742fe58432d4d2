"""Dataset adapters: EEGdenoiseNet-style denoising data, and more."""

"""Spiking networks: learnable delays, adaptive-threshold neurons, FEAST, HD-SNN, training.

Submodules import torch and SpikingJelly; import them directly (``neurosig.snn.delays``, ...) so that
``import neurosig`` stays light.
"""

"""BCI decoding evaluation: the EEGNet family, classical baselines, protocols, metrics, reports.

Heavy modules (torch, MNE, scikit-learn) load on first use: import from the submodules, e.g.
``from neurosig.bci.models import build_model`` or ``from neurosig.jobs.bci_eval import BCIEvaluation``.
"""

"""Models: NeuroPathX (``neuropathx.models.neuropathx``), its losses (``losses``) and the
baselines (``baselines``).

Nothing is imported here on purpose: the baselines run in an environment without PyTorch.
"""

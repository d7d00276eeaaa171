"""reporting stage of the NeuroPathX pipeline."""

"""demo stage of the NeuroPathX pipeline."""

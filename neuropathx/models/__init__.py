"""models stage of the NeuroPathX pipeline."""

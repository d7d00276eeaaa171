"""genetics stage of the NeuroPathX pipeline."""

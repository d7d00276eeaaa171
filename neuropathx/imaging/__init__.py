"""imaging stage of the NeuroPathX pipeline."""

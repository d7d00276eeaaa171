"""demo stage of the NeuroPathX pipeline: the simulated cohort with planted ground truth."""

from neuropathx.demo.freesurfer_stats import write_aparc_stats
from neuropathx.demo.simulate import simulate_demo_cohort

__all__ = ["simulate_demo_cohort", "write_aparc_stats"]

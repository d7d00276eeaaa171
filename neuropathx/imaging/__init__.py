"""imaging stage of the NeuroPathX pipeline.

``freesurfer`` parses ``.stats`` files, ``subjects`` reads a cohort in parallel,
``regional_table`` checks and assembles the subjects × (region, measure) table and its QC,
``aparcstats2table`` writes FreeSurfer-style tables, ``volumetric`` handles NIfTI + atlas
input, ``stage.build_imaging_features`` is the stage entry point.
"""

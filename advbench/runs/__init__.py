"""The run loop of ``advbench run``: configuration, the (detector, seed) pairs, the run folder."""

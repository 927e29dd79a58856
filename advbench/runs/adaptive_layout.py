"""The names in an ``evaluate-adaptive`` folder that its writer (``runs.evaluate_adaptive``) and its
readers (``reports.adaptive_verdicts``, the site) share: the marker and the cells' file."""

#: The marker of a folder ``evaluate-adaptive`` wrote.
MARKER = ".advbench-adaptive"
#: The file of its cells, one JSON line per detector, seed and budget.
CELLS = "cells.jsonl"

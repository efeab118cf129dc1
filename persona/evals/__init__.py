"""Evaluation runners: datasets are read by path at run time, never copied into the repository."""

from pathlib import Path

# The project's own eval sets, shipped with the package (links to evals/ in a source checkout).
DATA = Path(__file__).resolve().parents[1] / "data" / "evals"

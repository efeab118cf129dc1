"""Evaluation runners: datasets are read by path at run time, never copied into the repository."""

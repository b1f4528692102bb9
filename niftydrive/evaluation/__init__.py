"""Evaluation of inference outputs against reference labels."""

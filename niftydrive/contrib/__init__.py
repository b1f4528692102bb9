"""Extras built on niftydrive: demo data and helpers."""

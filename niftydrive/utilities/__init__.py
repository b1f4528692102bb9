"""Utilities shared by every part of niftydrive (no TensorFlow graph code)."""

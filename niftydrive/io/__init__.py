"""Input/output: files, folders, data splits and images."""

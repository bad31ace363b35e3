"""Deterministic commune traffic generator (`dvc-pulse simulate`)."""

"""Operations tools: the top-level `dvc-pulse` CLI, `dvc-pulse up` (what `make up` runs) and the dead-letter CLI."""

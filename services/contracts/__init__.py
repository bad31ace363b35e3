"""The contract between services: event schemas, subjects and stream definitions (data, no logic)."""

"""The contract between services: event schemas, subjects, stream definitions and the stored form of an API key
(data, no logic)."""

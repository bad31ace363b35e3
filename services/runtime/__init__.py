"""Shared plumbing every service wires in its `create_app()`: settings, DB, broker, ops routes, logging."""

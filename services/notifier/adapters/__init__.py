"""Notifier adapters: SQL tables and repositories, publishers, SMS providers."""

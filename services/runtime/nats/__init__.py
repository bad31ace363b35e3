"""NATS plumbing shared by the services: connections, pull consumers, publishing, streams, the embedded server."""

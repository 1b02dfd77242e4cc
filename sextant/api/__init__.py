"""The HTTP server: capture endpoints, JSON API, health; one FastAPI application."""

"""Fixtures for access tests: `oidc_provider`, a real OpenID provider on 127.0.0.1."""

from tests.access.oidc_provider import oidc_provider  # noqa: F401

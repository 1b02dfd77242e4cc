"""Settings: read from SEXTANT_* environment variables, overridden by command-line options.

Every setting is documented here, in the field's description; `sextant --help` and the
README list them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)

DATABASE_FILE = "sextant.duckdb"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})  # addresses only this machine reaches


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEXTANT_", extra="ignore")

    data_dir: Path = Field(
        default=Path("sextant-data"),
        description="Folder holding the store (sextant.duckdb) and its journal.",
    )
    timezone: str = Field(
        default="UTC",
        description="IANA time zone used to bucket days, weeks and months by default.",
    )
    week_start: Weekday = Field(
        default="monday",
        description="First day of the week for weekly buckets, cohorts and presets.",
    )
    catalog_dir: Path | None = Field(
        default=None,
        description=(
            "Folder of user metric/dimension YAML that adds to or overrides the built-in catalog."
        ),
    )
    engine: Literal["duckdb", "clickhouse"] = Field(
        default="duckdb",
        description=(
            "Engine answering queries: duckdb (the store itself) or clickhouse (a copy loaded "
            "with `sextant clickhouse load`; writes always go to the DuckDB store)."
        ),
    )
    clickhouse_url: str = Field(
        default="chdb:",
        description=(
            "Where ClickHouse is: chdb: (embedded, under the data folder), chdb:///path, or "
            "clickhouse://user:password@host:8123/database (https:// or ?secure=1 for TLS)."
        ),
    )
    duckdb_threads: int | None = Field(
        default=None,
        ge=1,
        description="Threads DuckDB may use; unset means one per core.",
    )
    duckdb_memory_limit: str | None = Field(
        default=None,
        description="DuckDB memory limit such as '4GB'; unset means DuckDB's default (80% of RAM).",
    )

    host: str = Field(default="127.0.0.1", description="Address `sextant serve` binds.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port `sextant serve` binds.")
    max_body_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        description="Largest capture request body, after decompression (413 above it).",
    )
    body_timeout_seconds: float = Field(
        default=30.0, gt=0, description="A request body slower than this gets 408."
    )
    max_event_bytes: int = Field(
        default=1_000_000, ge=1024, description="Largest single event (rejected above it)."
    )
    max_property_depth: int = Field(
        default=20, ge=1, description="Deepest nesting of objects and arrays in properties."
    )
    max_backlog: int = Field(
        default=1_000_000,
        ge=1,
        description="Events accepted but not yet stored before capture answers 503.",
    )

    session_hours: float = Field(
        default=12.0, gt=0, description="A sign-in lasts this long without use, then ends."
    )
    lockout_attempts: int = Field(
        default=5, ge=1, description="Failed sign-ins in a row that lock an account."
    )
    lockout_minutes: float = Field(
        default=15.0, gt=0, description="How long a locked account waits before it may try again."
    )
    cookie_secure: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="Mark cookies Secure: auto does so except on http://127.0.0.1 and localhost.",
    )
    audit_retention_days: int = Field(
        default=365,
        ge=1,
        description="Audit log entries older than this are deleted (admins may change it).",
    )
    playground_timeout_seconds: float = Field(
        default=10.0, gt=0, le=600, description="A playground query running longer is stopped."
    )
    playground_refresh_seconds: float = Field(
        default=60.0,
        ge=0,
        description="The playground's copy of the data is refreshed at most this often.",
    )
    playground_memory_mb: int = Field(
        default=1024, ge=64, description="Memory a playground query's process may use."
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="OpenID Connect issuer URL for single sign-on (its discovery document is "
        "read from <issuer>/.well-known/openid-configuration); unset: passwords only.",
    )
    oidc_client_id: str | None = Field(default=None, description="Client id at the provider.")
    oidc_client_secret: str | None = Field(
        default=None, description="Client secret at the provider."
    )
    oidc_label: str = Field(
        default="single sign-on", description="What the sign-in button calls the provider."
    )
    oidc_role_claim: str = Field(
        default="groups",
        description="ID-token claim (a string or a list) whose values map to roles.",
    )
    oidc_role_map: str = Field(
        default="",
        description="Claim values to roles, e.g. 'sextant-admins=admin,data=analyst'; the "
        "highest role matched wins.",
    )
    oidc_default_role: str | None = Field(
        default=None,
        description="Role of a signed-in user no claim value maps; unset: such users are refused.",
    )
    oidc_tenants_claim: str | None = Field(
        default=None,
        description="ID-token claim listing the tenants a user may read; unset: all tenants.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as 'Europe/Paris'"
            ) from exc
        return value

    @property
    def clickhouse_path(self) -> Path:
        """The embedded ClickHouse store's folder for `clickhouse_url = chdb:`."""
        return self.data_dir / "clickhouse"

    @property
    def database_path(self) -> Path:
        return self.data_dir / DATABASE_FILE

    @property
    def journal_dir(self) -> Path:
        return self.data_dir / "journal"

    @property
    def access_path(self) -> Path:
        """Users, sessions, API keys, saved queries and the audit log (SQLite)."""
        return self.data_dir / "access.sqlite"

    @property
    def playground_dir(self) -> Path:
        """Read-only snapshots the playground's separate process queries."""
        return self.data_dir / "playground"

    @property
    def server_file(self) -> Path:
        """Written by a running server: its pid, address and local control token."""
        return self.data_dir / "server.json"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit (non-None) overrides on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})

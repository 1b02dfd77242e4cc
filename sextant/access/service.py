"""Everything access needs, opened once per server or CLI command over the access store."""

from __future__ import annotations

from sextant.access.audit import AuditLog
from sextant.access.store import AccessStore
from sextant.access.tokens import ApiKeys, Sessions
from sextant.access.users import Users
from sextant.config import Settings


class Access:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = AccessStore(settings.access_path)
        self.users = Users(self.store)
        self.sessions = Sessions(self.store, self.users, settings.session_hours)
        self.keys = ApiKeys(self.store)
        self.audit = AuditLog(self.store, settings.audit_retention_days)
        self.secret = self.store.secret()

    def authenticate(self, email: str, password: str):
        return self.users.authenticate(
            email,
            password,
            attempts=self.settings.lockout_attempts,
            lock_minutes=self.settings.lockout_minutes,
        )

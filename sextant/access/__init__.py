"""Who may see what: users and roles, sign-in (password and single sign-on), sessions, API
keys, tenant limits, PII masking and the audit log (DESIGN.md, Roles)."""

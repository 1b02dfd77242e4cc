"""`sextant users ...` and `sextant keys ...`: people, roles, tenant limits and API keys.

They write the access store directly (SQLite, safe beside a running server), so the first
admin can be added before or while the server runs. Each change is written to the audit log
as done by `cli:<login>`.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
from rich.table import Table

from sextant.access.roles import Principal, Role
from sextant.access.service import Access
from sextant.access.users import User, parse_tenants
from sextant.cli.common import DataDir, console, settings_for
from sextant.errors import InvalidInput, NotFound

users = typer.Typer(help="Users, their roles and tenant limits.", no_args_is_help=True)
keys = typer.Typer(help="API keys for programmatic access.", no_args_is_help=True)

Email = Annotated[str, typer.Argument(metavar="EMAIL")]
RoleOption = Annotated[str, typer.Option("--role", help="viewer, analyst, sys_engineer or admin.")]
Tenants = Annotated[
    str | None,
    typer.Option(help="Comma-separated tenant ids the user may read; omitted: every tenant."),
]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]


def register(app: typer.Typer) -> None:
    app.add_typer(users, name="users")
    app.add_typer(keys, name="keys")


def _cli_actor() -> Principal:
    return Principal(f"cli:{getpass.getuser()}", Role.ADMIN, None, "cli")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InvalidInput(
            "password_needed",
            "no terminal to ask for a password: pipe it with --password-stdin, or use --sso",
            field="password",
        )
    first = getpass.getpass("Password (10 characters or more): ")
    if getpass.getpass("Again: ") != first:
        raise InvalidInput("password_mismatch", "the two passwords differ", field="password")
    return first


@users.command("add")
def add_command(
    email: Email,
    role: RoleOption = "viewer",
    tenants: Tenants = None,
    name: Annotated[str, typer.Option(help="Shown beside the email.")] = "",
    password_stdin: PasswordStdin = False,
    sso: Annotated[
        bool, typer.Option("--sso", help="Signs in only through single sign-on: no password.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Add a user (the first should be an admin): asks for a password unless --sso."""
    access = Access(settings_for(data_dir))
    parsed_role = Role.parse(role)
    password = None if sso else _password(password_stdin)
    user = access.users.add(
        email, parsed_role, password=password, tenants=parse_tenants(tenants), name=name
    )
    access.audit.record(
        _cli_actor(),
        "user_change",
        user.email,
        change="added",
        role=user.role.value,
        tenants=user.tenants,
    )
    scope = ", ".join(user.tenants) if user.tenants is not None else "every tenant"
    console.print(f"Added {user.email} as {user.role.value}, reading {scope}.")


@users.command("list")
def list_command(data_dir: DataDir = None) -> None:
    """List users with their roles, tenant limits and state."""
    access = Access(settings_for(data_dir))
    found = access.users.all()
    if not found:
        console.print(
            "No users yet: the server runs as a local demo on 127.0.0.1 only. Add the "
            "first admin with `sextant users add EMAIL --role admin`."
        )
        return
    table = Table("email", "role", "tenants", "sign-in", "state")
    for user in found:
        info = user.as_dict()
        table.add_row(
            user.email,
            user.role.value,
            ", ".join(user.tenants) if user.tenants is not None else "all",
            _sign_in(user),
            "disabled" if not user.active else "locked" if info["locked"] else "active",
        )
    console.print(table)


def _sign_in(user: User) -> str:
    """How a user signs in: a user without a password signs in only through SSO."""
    kinds = ["password"] if user.has_password else []
    if user.sso or not user.has_password:
        kinds.append("single sign-on")
    return " + ".join(kinds)


@users.command("set")
def set_command(
    email: Email,
    role: Annotated[str | None, typer.Option(help="A new role.")] = None,
    tenants: Tenants = None,
    all_tenants: Annotated[bool, typer.Option("--all-tenants", help="Lift the limit.")] = False,
    active: Annotated[
        bool | None, typer.Option("--enable/--disable", help="Allow or stop sign-in.")
    ] = None,
    password: Annotated[
        bool, typer.Option("--password", help="Set a new password (asked, or from stdin).")
    ] = False,
    password_stdin: PasswordStdin = False,
    data_dir: DataDir = None,
) -> None:
    """Change a user's role, tenants, state or password (their sessions end)."""
    access = Access(settings_for(data_dir))
    user = access.users.find(email)
    if user is None:
        raise NotFound("user_not_found", f"no user {email!r}", field="email")
    limit: object = ...
    if all_tenants:
        limit = None
    elif tenants is not None:
        limit = parse_tenants(tenants)
    changed = access.users.update(
        user.id,
        role=Role.parse(role) if role else None,
        tenants=limit,
        active=active,
        password=_password(password_stdin) if password or password_stdin else None,
    )
    access.audit.record(
        _cli_actor(),
        "user_change",
        changed.email,
        change="updated",
        role=changed.role.value,
        tenants=changed.tenants,
        active=changed.active,
    )
    console.print(
        f"Updated {changed.email}: {changed.role.value}, "
        f"{'active' if changed.active else 'disabled'}."
    )


@keys.command("add")
def add_key_command(
    name: Annotated[str, typer.Argument(metavar="NAME", help="What uses the key.")],
    role: RoleOption = "viewer",
    tenants: Tenants = None,
    data_dir: DataDir = None,
) -> None:
    """Create an API key and print it (shown only this once)."""
    access = Access(settings_for(data_dir))
    key, secret = access.keys.create(name, Role.parse(role), parse_tenants(tenants), _cli_actor())
    access.audit.record(_cli_actor(), "key_change", key.name, change="created", role=role)
    console.print(f"API key {key.name!r} ({key.role.value}) created. Shown only now:")
    typer.echo(secret)
    console.print("Send it as `Authorization: Bearer KEY` to the /api/v1 routes.")


@keys.command("list")
def list_keys_command(data_dir: DataDir = None) -> None:
    """List API keys (their start only)."""
    access = Access(settings_for(data_dir))
    table = Table("id", "name", "starts with", "role", "tenants", "state")
    for key in access.keys.all():
        table.add_row(
            str(key.id),
            key.name,
            key.prefix + "…",
            key.role.value,
            ", ".join(key.tenants) if key.tenants is not None else "all",
            "revoked" if key.revoked else "active",
        )
    console.print(table)


@keys.command("revoke")
def revoke_key_command(
    key_id: Annotated[int, typer.Argument(metavar="ID")], data_dir: DataDir = None
) -> None:
    """Revoke an API key: refused (401) from now on."""
    access = Access(settings_for(data_dir))
    key = access.keys.revoke(key_id)
    access.audit.record(_cli_actor(), "key_change", key.name, change="revoked")
    console.print(f"API key {key.name!r} revoked.")

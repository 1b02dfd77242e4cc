"""Arrow tables of one block's tenants, persons and identity maps (distinct ids, merges),
consistent with the events: anonymous persons are merged into users at `$identify`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sextant.store.schema import PERSON_DISTINCT_IDS, PERSON_OVERRIDES, PERSONS, TENANTS, Table
from sextant.synth.config import COUNTRIES, PLANS, SynthConfig
from sextant.synth.ids import number_ids
from sextant.synth.people import People
from sextant.synth.vocab import (
    FIRST_NAMES,
    FREE_MAIL,
    LAST_NAMES,
    ROLES,
    SCHOOL_SUFFIXES,
    TEAM_SUFFIXES,
    WORKSPACE_ADJECTIVES,
    WORKSPACE_NOUNS,
)


def build_tenants(
    cfg: SynthConfig, people: People, payer: np.ndarray, tenant_first: int
) -> pa.Table:
    """Workspaces, on a paid plan if any member pays."""
    tenants = people.tenants
    count = len(tenants.size)
    paying = np.zeros(count, dtype=bool)
    paying[people.tenant[payer]] = True
    name, _ = name_workspaces(cfg, people)
    segment = take_strings(list(cfg.segments), tenants.segment)
    seats = pc.cast(pa.array(tenants.size), pa.string())
    return conform_table(
        TENANTS,
        tenant_id=number_ids("ws_", tenant_first + 1, count, width=6),
        name=name,
        plan=take_strings(PLANS, np.where(paying, tenants.tier, 0)),
        country=take_strings(list(COUNTRIES), tenants.country),
        created_at=tenants.created_us,
        properties=concat('{"segment":"', segment, '","seats":', seats, "}"),
    )


def name_workspaces(cfg: SynthConfig, people: People) -> tuple[pa.Array, pa.Array]:
    """Each tenant's name and mail domain: "Ana's workspace" for a personal one,
    "Blue Harbor Labs" (blueharbor.com) for a team, "Oak University" (oak.edu) for a school."""
    tenants = people.tenants
    adjective, noun, suffix = tenants.name_parts.T
    adjective = take_strings(WORKSPACE_ADJECTIVES, adjective % len(WORKSPACE_ADJECTIVES))
    noun = take_strings(WORKSPACE_NOUNS, noun % len(WORKSPACE_NOUNS))
    school = np.array([s == "education" for s in cfg.segments])[tenants.segment]
    team = concat(
        adjective, " ", noun, " ", take_strings(TEAM_SUFFIXES, suffix % len(TEAM_SUFFIXES))
    )
    college = concat(noun, " ", take_strings(SCHOOL_SUFFIXES, suffix % len(SCHOOL_SUFFIXES)))
    owner = np.maximum(tenants.owner, 0)
    personal = concat(take_strings(FIRST_NAMES, people.first_name[owner]), "'s workspace")
    is_personal = pa.array(tenants.owner >= 0)
    name = pc.if_else(is_personal, personal, pc.if_else(pa.array(school), college, team))
    company = pc.utf8_lower(concat(adjective, noun))
    domain = pc.if_else(
        pa.array(school), concat(pc.utf8_lower(noun), ".edu"), concat(company, ".com")
    )
    return name, pc.if_else(is_personal, pa.nulls(len(owner), pa.string()), domain)


def build_persons(
    cfg: SynthConfig, people: People, payer: np.ndarray, tenant_first: int
) -> pa.Table:
    """Identified persons: plan is the plan they end on (free unless they paid)."""
    tenant = people.tenant
    first = take_strings(FIRST_NAMES, people.first_name)
    last = take_strings(LAST_NAMES, people.last_name)
    _, domains = name_workspaces(cfg, people)
    free_mail = take_strings(FREE_MAIL, people.pid % len(FREE_MAIL))
    domain = pc.coalesce(domains.take(pa.array(tenant)), free_mail)
    number = pc.cast(pa.array(people.pid % 997), pa.string())
    local = pc.replace_substring(pc.utf8_lower(concat(first, ".", last)), " ", "")
    local = pc.if_else(pa.array(people.tenants.owner[tenant] >= 0), concat(local, number), local)
    email = concat(local, "@", domain)
    role = take_strings(ROLES, people.role)
    return conform_table(
        PERSONS,
        person_id=people.pid,
        tenant_id=number_ids("ws_", tenant_first + 1, len(people.tenants.size), width=6).take(
            pa.array(tenant)
        ),
        created_at=people.first_seen_us,
        is_identified=np.ones(people.size, dtype=bool),
        segment=take_strings(list(cfg.segments), people.segment),
        plan=take_strings(PLANS, np.where(payer, people.tenants.tier[tenant], 0)),
        country=take_strings(list(COUNTRIES), people.country),
        channel=take_strings(list(cfg.channels), people.channel),
        properties=concat(
            '{"email":"', email, '","name":"', concat(first, " ", last), '","role":"', role, '"}'
        ),
    )


def build_distinct_ids(people: People, users: int) -> pa.Table:
    """Each user's id and earlier anonymous id map to the user; a visitor's to the visitor."""
    n, visitors = people.size, people.block.visitors
    visitor_pid = 2 * users + people.block.visitor_first + 1 + np.arange(visitors)
    return conform_table(
        PERSON_DISTINCT_IDS,
        distinct_id=pa.concat_arrays(
            [number_ids("user_", people.block.first + 1, n), people.anon_ids]
        ),
        person_id=np.concatenate([people.pid, people.pid, visitor_pid]),
        updated_at=np.concatenate([people.signup_us, people.signup_us, people.visitors.first_us]),
    )


def build_overrides(people: People, users: int) -> pa.Table:
    """The anonymous person of each user's pre-signup visits, merged at `$identify`."""
    return conform_table(
        PERSON_OVERRIDES,
        old_person_id=users + people.pid,
        person_id=people.pid,
        merged_at=people.signup_us,
    )


def take_strings(values: Sequence[str] | pa.Array, index: np.ndarray) -> pa.Array:
    """`values[index]` as an Arrow string array, null where the index is negative."""
    strings = values if isinstance(values, pa.Array) else pa.array(list(values), pa.string())
    index = np.asarray(index)
    mask = index < 0
    return strings.take(pa.array(index, mask=mask if mask.any() else None))


def concat(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def conform_table(spec: Table, **columns) -> pa.Table:
    """The given columns of `spec`, in its order, with its Arrow types."""
    schema = pa.schema([f for f in spec.arrow_schema() if f.name in columns])
    return pa.table([make_column(columns[f.name], f.type) for f in schema], schema=schema)


def make_column(values, type_: pa.DataType) -> pa.Array:
    if isinstance(values, pa.Array):
        return values if values.type == type_ else values.cast(type_)
    return pa.array(values, type=type_)

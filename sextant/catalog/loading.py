"""Reading catalog YAML: the built-in files shipped in the package, then a user directory that
adds definitions or overrides built-in ones by name. Every problem in every file is reported
at once, with file, line and field.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, SequenceNode

from sextant.catalog.definitions import Catalog, Origin
from sextant.catalog.dimensions import Dimension, EventFlag, EventFlags
from sextant.catalog.models import METRIC_TYPES, EventSelector, Metric
from sextant.errors import InvalidInput, Problem

BUILTIN_DIR = Path(__file__).parent / "builtin"
SECTIONS = ("metrics", "dimensions", "events", "funnels", "experiments")
RAW_SECTIONS = ("funnels", "experiments")  # read as written; their own packages check them
FLAGS = EventFlag.__args__
_PYDANTIC_CODES = {"missing": "catalog_missing_field", "extra_forbidden": "catalog_unknown_field"}


@dataclass
class Layer:
    """Definitions read from one directory; a later layer overrides an earlier one by name."""

    metrics: dict[str, tuple[Metric, Origin]] = field(default_factory=dict)
    dimensions: dict[str, tuple[Dimension, Origin]] = field(default_factory=dict)
    flags: dict[str, tuple[frozenset[str], Origin]] = field(default_factory=dict)
    # Saved funnels and experiments by name, as written (analyses/funnels.py and
    # experiments/ check them when one is used).
    raw: dict[str, dict[str, tuple[dict, Origin]]] = field(
        default_factory=lambda: {section: {} for section in RAW_SECTIONS}
    )
    # Every name read, valid or not, so a duplicate is reported even beside a bad entry.
    seen: dict[tuple[str, str], Origin] = field(default_factory=dict)


def load_catalog(user_dir: Path | None = None) -> Catalog:
    """The built-in catalog, with the user directory's *.yaml files on top.

    Raises InvalidInput `catalog_invalid` listing every problem (each with its own code)."""
    problems: list[Problem] = []
    layers = [read_dir(BUILTIN_DIR, problems)]
    if user_dir is not None:
        if not Path(user_dir).is_dir():
            raise InvalidInput(
                "catalog_dir_missing",
                f"catalog directory {user_dir} does not exist or is not a directory",
                field="catalog_dir",
                hint="create it, or point the setting at the folder holding your *.yaml files",
            )
        layers.append(read_dir(Path(user_dir), problems))
    if not problems:
        catalog = merge(layers)
        problems = catalog.problems()
    if problems:
        raise invalid(problems)
    return catalog


def invalid(problems: list[Problem]) -> InvalidInput:
    lines = "\n".join(f"- {p.message}" for p in problems)
    return InvalidInput(
        "catalog_invalid",
        f"the metric catalog has {len(problems)} problem(s):\n{lines}",
        field=problems[0].field,
        hint="fix the definitions named above; each line gives file, line and field",
        problems=problems,
    )


def merge(layers: list[Layer]) -> Catalog:
    metrics, dimensions, flags, origins = {}, {}, {}, {}
    raw: dict[str, dict[str, dict]] = {section: {} for section in RAW_SECTIONS}
    for layer in layers:
        for name, (metric, origin) in layer.metrics.items():
            metrics[name], origins[f"metric:{name}"] = metric, origin
        for name, (dim, origin) in layer.dimensions.items():
            dimensions[name], origins[f"dimension:{name}"] = dim, origin
        for event, (event_flags, origin) in layer.flags.items():
            flags[event], origins[f"event:{event}"] = event_flags, origin
        for section, entries in layer.raw.items():
            for name, (entry, origin) in entries.items():
                raw[section][name], origins[f"{section[:-1]}:{name}"] = entry, origin
    return Catalog(
        metrics,
        dimensions,
        EventFlags(flags=flags),
        origins,
        funnels=raw["funnels"],
        experiments=raw["experiments"],
    )


def read_dir(directory: Path, problems: list[Problem]) -> Layer:
    layer = Layer()
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        read_file(path, layer, problems)
    return layer


def read_file(path: Path, layer: Layer, problems: list[Problem]) -> None:
    """Add the definitions in `path` to `layer`, appending what is wrong to `problems`."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        problems.append(_syntax_problem(path, exc))
        return
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem("catalog_file_unreadable", f"{path}: cannot read: {exc}"))
        return
    if root is None:
        return
    problems.extend(_duplicate_keys(path, root))
    if not isinstance(root, MappingNode):
        problems.append(_at(path, root, "catalog_file_invalid", "", _SECTIONS_EXPECTED))
        return
    for key, value in root.value:
        if key.value not in SECTIONS:
            close = difflib.get_close_matches(str(key.value), SECTIONS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            message = f"unknown section {key.value!r}{hint}; {_SECTIONS_EXPECTED}"
            problems.append(_at(path, key, "catalog_unknown_section", "", message))
        elif key.value == "events":
            _read_flags(path, value, layer, problems)
        elif key.value in RAW_SECTIONS:
            _read_named(path, key.value, value, layer, problems)
        else:
            _read_entries(path, key.value, value, layer, problems)


_SECTIONS_EXPECTED = (
    "expected a mapping with metrics (a list), dimensions (a list), events, funnels (a list), "
    "experiments (a list)"
)


def _read_entries(path: Path, section: str, node: Node, layer: Layer, problems: list) -> None:
    kind = section[:-1]
    if not isinstance(node, SequenceNode):
        message = f"section {section!r} must be a list of entries, each starting '- name: ...'"
        problems.append(_at(path, node, "catalog_section_invalid", "", message))
        return
    known = getattr(layer, section)
    for index, item in enumerate(node.value):
        data = _construct(item)
        name = data.get("name") if isinstance(data, dict) else None
        label = f"{kind} {name!r}" if isinstance(name, str) else f"{kind} #{index + 1}"
        entry = _Entry(path, item, label, f"{section}.{name or index + 1}")
        model = _validate(entry, kind, data, problems)
        origin = Origin(str(path), item.start_mark.line + 1)
        if isinstance(name, str) and _is_duplicate(entry, layer, (section, name), origin, problems):
            continue
        if model is not None:
            known[name] = (model, origin)


def _is_duplicate(entry: _Entry, layer: Layer, key: tuple, origin: Origin, problems: list) -> bool:
    first = layer.seen.setdefault(key, origin)
    if first is origin:
        return False
    where = f"line {first.line}" if first.file == origin.file else str(first)
    message = f"{key[1]!r} is already defined at {where}; expected each name once per directory"
    problems.append(entry.problem("catalog_duplicate_name", ("name",), message))
    return True


@dataclass
class _Entry:
    """One metric or dimension entry being read, to place its problems."""

    path: Path
    node: Node
    label: str
    locator: str

    def problem(self, code: str, loc: tuple, message: str) -> Problem:
        field_name = ".".join(str(p) for p in loc) or "(entry)"
        where = f"{self.path} line {_line(self.node, loc)}, {self.label}, field {field_name!r}"
        return Problem(code, f"{where}: {message}", f"{self.locator}.{field_name}")


def _validate(entry: _Entry, kind: str, data: Any, problems: list) -> BaseModel | None:
    if not isinstance(data, dict):
        problems.append(entry.problem("catalog_entry_invalid", (), "expected a mapping"))
        return None
    cls: type[BaseModel] = Dimension
    if kind == "metric":
        cls = _metric_class(entry, data, problems)
        if cls is None:
            return None
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        problems.extend(_translate(entry, cls, err) for err in exc.errors())
        return None


def _metric_class(entry: _Entry, data: dict, problems: list) -> type[Metric] | None:
    types = ", ".join(METRIC_TYPES)
    kind = data.get("type")
    if kind is None:
        message = f"missing required field; expected one of {types}"
        problems.append(entry.problem("catalog_missing_field", ("type",), message))
        return None
    if kind not in METRIC_TYPES:
        close = difflib.get_close_matches(str(kind), METRIC_TYPES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        message = f"unknown type {kind!r}{hint}; expected one of {types}"
        problems.append(entry.problem("catalog_unknown_type", ("type",), message))
        return None
    return METRIC_TYPES[kind]


def _translate(entry: _Entry, cls: type[BaseModel], err: dict) -> Problem:
    loc = tuple(err["loc"])
    code = err["type"] if err["type"].startswith("catalog_") else None
    if code:
        return entry.problem(code, loc, err["msg"])
    if err["type"] == "extra_forbidden":
        allowed = sorted(_fields(cls, loc[:-1]))
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        message = f"unknown field{hint}; expected one of {', '.join(allowed)}"
        return entry.problem("catalog_unknown_field", loc, message)
    message = "missing required field" if err["type"] == "missing" else err["msg"]
    expected = _fields(cls, loc[:-1]).get(str(loc[-1]) if loc else "")
    message += f"; expected {expected}" if expected else ""
    return entry.problem(_PYDANTIC_CODES.get(err["type"], "catalog_invalid_value"), loc, message)


def _fields(cls: type[BaseModel], parent: tuple) -> dict[str, str]:
    """YAML key -> description of the fields at `parent` (a nested selector or the entry)."""
    model = EventSelector if parent else cls
    return {
        info.alias or name: info.description or ""
        for name, info in model.model_fields.items()
        if name != "type" or not parent
    }


def _read_flags(path: Path, node: Node, layer: Layer, problems: list) -> None:
    if not isinstance(node, MappingNode):
        message = "section 'events' must map event names to flags, such as '$pageleave: [inactive]'"
        problems.append(_at(path, node, "catalog_section_invalid", "events", message))
        return
    for key, value in node.value:
        flags = _construct(value)
        flags = [flags] if isinstance(flags, str) else flags
        if not isinstance(flags, list) or any(f not in FLAGS for f in flags):
            message = f"unknown flags {flags!r}; expected a list of {', '.join(FLAGS)}"
            problems.append(
                _at(path, value, "catalog_unknown_flag", f"events.{key.value}", message)
            )
            continue
        layer.flags[str(key.value)] = (frozenset(flags), Origin(str(path), key.start_mark.line + 1))


def _read_named(path: Path, section: str, node: Node, layer: Layer, problems: list) -> None:
    items = node.value if isinstance(node, SequenceNode) else None
    if items is None or any(
        not isinstance(f := _construct(item), dict) or not isinstance(f.get("name"), str)
        for item in items
    ):
        message = f"section {section!r} must be a list of entries, each starting '- name: ...'"
        problems.append(_at(path, node, "catalog_section_invalid", section, message))
        return
    for item in items:
        entry = _construct(item)
        origin = Origin(str(path), item.start_mark.line + 1)
        layer.raw[section][entry["name"]] = (entry, origin)


def _construct(node: Node) -> Any:
    return yaml.SafeLoader("").construct_document(node)


def _line(node: Node, loc: tuple) -> int:
    """1-based line of the deepest key or item of `loc` found under `node`."""
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _at(path: Path, node: Node, code: str, field_name: str, message: str) -> Problem:
    where = f"{path} line {node.start_mark.line + 1}"
    where += f", field {field_name!r}" if field_name else ""
    return Problem(code, f"{where}: {message}", field_name or None)


def _syntax_problem(path: Path, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = f" line {mark.line + 1}" if mark else ""
    what = getattr(exc, "problem", None) or str(exc)
    message = f"{path}{line}: not valid YAML: {what}; expected YAML such as '- name: dau'"
    return Problem("catalog_yaml_syntax", message)


def _duplicate_keys(path: Path, node: Node) -> list[Problem]:
    """Keys given twice in one mapping (YAML loaders silently keep the last one)."""
    problems = []
    if isinstance(node, MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:
                message = f"key {key.value!r} appears twice in one mapping; expected it once"
                problems.append(_at(path, key, "catalog_duplicate_key", str(key.value), message))
            seen.add(key.value)
            problems.extend(_duplicate_keys(path, value))
    elif isinstance(node, SequenceNode):
        for item in node.value:
            problems.extend(_duplicate_keys(path, item))
    return problems

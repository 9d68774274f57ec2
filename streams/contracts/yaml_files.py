"""YAML files validated by pydantic, with errors that name the file, line and field."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import TypeAdapter, ValidationError

from streams.contracts.settings import ConfigError

T = TypeVar("T")


def require_unique(what: str, names: Iterable[str]) -> None:
    """For a validator of a named list in a file: a ValueError naming the repeated names."""
    seen = list(names)
    repeated = sorted({n for n in seen if seen.count(n) > 1})
    if repeated:
        raise ValueError(f"{what} names must be unique, repeated: {repeated}")


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the deepest node on `loc` that exists in the file."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
            if child is None:  # a missing key: point at the mapping that lacks it
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            continue  # a step the file does not have (a matcher's shorthand)
        node, line = child, child.start_mark.line + 1
    return line


def load_yaml(path: Path, model: type[T] | TypeAdapter[T]) -> T:
    """Parse `path` and validate it as `model`; every problem is one ConfigError."""
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from None
    try:
        node = yaml.compose(text)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(f"{path}{where}: not valid YAML: {problem}") from None
    adapter = model if isinstance(model, TypeAdapter) else TypeAdapter(model)
    try:
        return adapter.validate_python(data)
    except ValidationError as e:
        raise ConfigError(_describe(path, node, e)) from None


def _describe(path: Path, node: yaml.Node | None, error: ValidationError) -> str:
    problems = []
    for err in error.errors():
        loc = tuple(p for p in err["loc"] if not _is_tag(p))
        line = _line_of(node, loc)
        field = ".".join(str(p) for p in loc) or "(top level)"
        problems.append(f"{path}:{line or 1}: {field}: {err['msg']}")
    return "; ".join(problems)


def _is_tag(part: int | str) -> bool:
    # pydantic puts a union member's name (a rule type, 'list[...]') into the location.
    return isinstance(part, str) and (part in _TAGS or "[" in part)


_TAGS = {"threshold", "surge", "frequency", "new_term", "flatline", "function-after"}


def fail_at(path: Path, node_text: str, key: str, message: str) -> ConfigError:
    """A ConfigError for a semantic problem found after validation, at `key`'s line."""
    line = _line_of(yaml.compose(node_text), (key,))
    return ConfigError(f"{path}:{line or 1}: {key}: {message}")

"""Loads `rules/*.yaml`: one rule per file, checked as a whole before a worker starts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import TypeAdapter

from streams.contracts.settings import ConfigError
from streams.contracts.yaml_files import fail_at, load_yaml
from streams.notifiers.channels import CHANNELS
from streams.rules.hits import is_known_field
from streams.rules.models import Rule

_RULE: TypeAdapter[Rule] = TypeAdapter(Rule)


@dataclass(frozen=True)
class RuleSet:
    rules: dict[str, Rule] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules.values())

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, name: str) -> Rule | None:
        return self.rules.get(name)


def load_rule(path: Path) -> Rule:
    rule = load_yaml(path, _RULE)
    text = path.read_text()
    for where, names in (
        ("filter", list(rule.filter)),
        ("group_by", rule.group_by),
        ("match", list(getattr(rule, "match", {}))),
        ("field", [getattr(rule, "field", "")] if hasattr(rule, "field") else []),
        ("notify_group_by", rule.notify_group_by or []),
    ):
        for name in names:
            if not is_known_field(name):
                raise fail_at(path, text, where, f"unknown field {name!r} (see docs/alerting.md)")
    for channel in rule.notify:
        if channel not in CHANNELS:
            raise fail_at(
                path, text, "notify", f"unknown channel {channel!r}; one of {', '.join(CHANNELS)}"
            )
    for label in rule.notify_group_by or []:
        if label not in rule.group_by:
            raise fail_at(path, text, "notify_group_by", f"{label!r} is not in group_by")
    return rule


def load_rules(directory: Path) -> RuleSet:
    """Every enabled rule in `directory`; a missing directory is a configuration error."""
    if not directory.is_dir():
        raise ConfigError(f"rules directory {directory} does not exist (ARGUS_RULES_DIR)")
    rules: dict[str, Rule] = {}
    files: dict[str, Path] = {}
    for path in sorted(directory.glob("*.y*ml")):
        rule = load_rule(path)
        if rule.name in files:
            raise ConfigError(f"{path}: rule name {rule.name!r} is also used by {files[rule.name]}")
        files[rule.name] = path
        if rule.enabled:
            rules[rule.name] = rule
    return RuleSet(rules, files)

"""The rule language: the rule types, registered in one place (`Rule`).

A rule file is YAML (see docs/alerting.md). `filter` selects the events a rule looks at;
`group_by` splits them into independent keys (an entity, a portfolio item, a source); the
type decides when a key fires. Windows are event time, except `flatline`, which watches
the wall clock because silence has no event time.

Each type is one class (a BaseRule, streams/rules/base.py) in a module of its own, holding
its config, the hits an event gives it and what a hit does to a key's state. Adding a type
is one such module and one entry in `Rule` (and its name in RuleType, the alert schema's).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from streams.rules.flatline import FlatlineRule
from streams.rules.new_term import NewTermRule
from streams.rules.threshold import ThresholdRule
from streams.rules.windowed import FrequencyRule, SurgeRule

Rule = Annotated[
    ThresholdRule | FrequencyRule | SurgeRule | NewTermRule | FlatlineRule,
    Field(discriminator="type"),
]

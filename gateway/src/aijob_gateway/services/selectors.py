"""Kubernetes label selectors (`app=web,tier!=db,env in (a,b),!legacy`), parsed and matched.

Keys and values follow the same rules as labels everywhere in aijob (`aijob_api.validation`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from aijob_api.validation import label_key_problem, label_value_problem

_KEY: Final = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_VALUE: Final = r"[A-Za-z0-9]?(?:[-A-Za-z0-9_.]*[A-Za-z0-9])?"
_SET: Final = re.compile(rf"^({_KEY})\s+(in|notin)\s*\(\s*([^()]*)\)$")
_EQUALITY: Final = re.compile(rf"^({_KEY})\s*(==|=|!=)\s*({_VALUE})$")
_EXISTS: Final = re.compile(rf"^(!?)\s*({_KEY})$")
_VALUE_ONLY: Final = re.compile(rf"^{_VALUE}$")

Labels = Mapping[str, str]


@dataclass(frozen=True)
class Requirement:
    """One requirement of a selector."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Labels) -> bool:
        """Whether `labels` satisfy this requirement."""
        present = self.key in labels
        value = labels.get(self.key)
        checks: dict[str, Callable[[], bool]] = {
            "exists": lambda: present,
            "!exists": lambda: not present,
            "=": lambda: value == self.values[0],
            "!=": lambda: value != self.values[0],
            "in": lambda: value in self.values,
            "notin": lambda: value not in self.values,
        }
        return checks[self.operator]()


@dataclass(frozen=True)
class LabelSelector:
    """All requirements must hold (an empty selector matches everything)."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Labels) -> bool:
        """Whether `labels` satisfy every requirement."""
        return all(requirement.matches(labels) for requirement in self.requirements)


def _split(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ValueError("unbalanced ')'")
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth != 0:
        raise ValueError("unbalanced '('")
    parts.append("".join(current))
    return [part.strip() for part in parts]


def _requirement(text: str) -> Requirement:
    requirement = _parsed_requirement(text)
    problems = [label_key_problem(requirement.key)]
    problems += [label_value_problem(value) for value in requirement.values]
    problem = next((problem for problem in problems if problem is not None), None)
    if problem is not None:
        raise ValueError(f"{text!r}: {problem}")
    return requirement


def _parsed_requirement(text: str) -> Requirement:
    if match := _SET.match(text):
        values = tuple(value.strip() for value in match[3].split(","))
        if not values or any(not _VALUE_ONLY.match(value) or not value for value in values):
            raise ValueError(f"{text!r}: a set needs one or more label values")
        return Requirement(match[1], match[2], values)
    if match := _EQUALITY.match(text):
        operator = "=" if match[2] == "==" else match[2]
        return Requirement(match[1], operator, (match[3],))
    if match := _EXISTS.match(text):
        return Requirement(match[2], "!exists" if match[1] else "exists")
    raise ValueError(f"{text!r} is not a label requirement")


def parse_selector(text: str | None) -> LabelSelector:
    """Parse a selector; ValueError says which part is wrong."""
    if text is None or not text.strip():
        return LabelSelector()
    parts = _split(text)
    if any(not part for part in parts):
        raise ValueError("empty requirement (two commas in a row?)")
    return LabelSelector(tuple(_requirement(part) for part in parts))

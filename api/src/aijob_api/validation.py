"""The patterns and the one label validator every part of aijob checks names with.

Kubernetes' own rules for label keys and values (a key is an optional DNS-subdomain
prefix of at most 253 characters, a slash, and a name of at most 63; a value is at
most 63 characters), the patterns of quantities, DNS labels and model types, and the
label prefixes aijob reserves on worker pods. The API models and the gateway both
validate with what is here, so a label one accepts the other accepts too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Final

from pydantic import AfterValidator, Field

QUANTITY_PATTERN: Final = (
    r"^(\+)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
"""A non-negative Kubernetes resource quantity such as `500m`, `2`, `4Gi`, `1e3`."""
DNS_LABEL_PATTERN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_1035_LABEL_PATTERN: Final = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
"""A DNS label that starts with a letter, as Service names must."""
MODEL_TYPE_PATTERN: Final = r"^[a-z][a-z0-9_]*$"

MAX_LABEL_PREFIX_LENGTH: Final = 253
"""The prefix of a label key (before the slash) is a DNS subdomain of at most 253 characters."""
MAX_LABEL_NAME_LENGTH: Final = 63
"""The name of a label key (after the slash) is at most 63 characters."""
MAX_LABEL_VALUE_LENGTH: Final = 63
MAX_LABEL_KEY_LENGTH: Final = MAX_LABEL_PREFIX_LENGTH + 1 + MAX_LABEL_NAME_LENGTH

LABEL_KEY_PATTERN: Final = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
"""A label (or annotation) key; the length of its prefix is checked apart."""
LABEL_VALUE_PATTERN: Final = r"^(|[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$"
"""A label value: empty, or at most 63 characters that begin and end alphanumeric."""

RESERVED_LABEL_PREFIXES: Final = ("aijob.dev/", "batch.kubernetes.io/", "kueue.x-k8s.io/")
"""Label prefixes the operator and the Job controller own on worker pods."""
RESERVED_ANNOTATION_PREFIXES: Final = ("batch.kubernetes.io/", "kueue.x-k8s.io/")
"""Annotation prefixes the Job controller and Kueue own on worker pods (the failure count the
worker reads is one). `aijob.dev/` annotations stay open: the local cluster's simulated pods
read theirs (hack/cluster/stages.yaml); the operator's allow-list decides the rest."""

_LABEL_KEY: Final = re.compile(LABEL_KEY_PATTERN)
_LABEL_VALUE: Final = re.compile(LABEL_VALUE_PATTERN)


def label_key_problem(key: str) -> str | None:
    """Why `key` is not a valid label or annotation key, or None when it is."""
    prefix, slash, _name = key.rpartition("/")
    if not _LABEL_KEY.match(key):
        return (
            f"{key!r} is not a valid key (an optional DNS-subdomain prefix and a slash, then "
            f"at most {MAX_LABEL_NAME_LENGTH} letters, digits, '-', '_' or '.')"
        )
    if slash and len(prefix) > MAX_LABEL_PREFIX_LENGTH:
        return f"{key!r}: the prefix is longer than {MAX_LABEL_PREFIX_LENGTH} characters"
    return None


def label_value_problem(value: str) -> str | None:
    """Why `value` is not a valid label value, or None when it is."""
    if len(value) > MAX_LABEL_VALUE_LENGTH or not _LABEL_VALUE.match(value):
        return (
            f"{value!r} is not a valid label value (at most {MAX_LABEL_VALUE_LENGTH} letters, "
            "digits, '-', '_' or '.', beginning and ending with a letter or digit)"
        )
    return None


def reserved_prefix_of(key: str, prefixes: tuple[str, ...] = RESERVED_LABEL_PREFIXES) -> str | None:
    """The reserved prefix (of `prefixes`, the label ones by default) `key` starts with, if any."""
    return next((prefix for prefix in prefixes if key.startswith(prefix)), None)


def labels_problem(labels: Mapping[str, str], where: str, *, reserved: bool = False) -> str | None:
    """The first problem of a label map (`where` names it in the message), or None."""
    for key, value in labels.items():
        if reserved and reserved_prefix_of(key) is not None:
            return f"{where}: the key {key!r} uses a reserved prefix"
        problem = label_key_problem(key)
        if problem is not None:
            return f"{where}: {problem}"
        problem = label_value_problem(value)
        if problem is not None:
            return f"{where}[{key!r}]: {problem}"
    return None


def annotations_problem(
    annotations: Mapping[str, str], where: str, *, reserved: bool = False
) -> str | None:
    """The first invalid annotation key (`where` names the map in the message), or None."""
    for key in annotations:
        if reserved and reserved_prefix_of(key, RESERVED_ANNOTATION_PREFIXES) is not None:
            return f"{where}: the key {key!r} uses a reserved prefix"
        problem = label_key_problem(key)
        if problem is not None:
            return f"{where}: {problem}"
    return None


def _checked_label_key(key: str) -> str:
    problem = label_key_problem(key)
    if problem is not None:
        raise ValueError(problem)
    return key


LabelKey = Annotated[
    str,
    Field(pattern=LABEL_KEY_PATTERN, max_length=MAX_LABEL_KEY_LENGTH),
    AfterValidator(_checked_label_key),
]
"""A label key, for models that validate label maps field by field (the gateway's)."""
LabelValue = Annotated[str, Field(pattern=LABEL_VALUE_PATTERN, max_length=MAX_LABEL_VALUE_LENGTH)]
"""A label value."""

"""What differs between two versions of one resource: field by field, and line by line for text."""

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

Changes = dict[str, dict[str, Any]]
"""field → {"from": old, "to": new}."""


def differences(before: Mapping[str, Any], after: Mapping[str, Any], names: Iterable[str]) -> Changes:
    """The fields of `names` whose values differ, each from its old value to its new one."""
    return {name: {"from": before.get(name), "to": after.get(name)}
            for name in names if before.get(name) != after.get(name)}


def text_diff(before: str, after: str, old_name: str, new_name: str) -> str:
    """A unified diff of two texts (empty when they are the same)."""
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), old_name, new_name, lineterm="")
    return "\n".join(lines)

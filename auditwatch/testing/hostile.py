"""Hostile rule and config files: what the YAML loader and the condition language must refuse quickly.

Shared by the unit tests, the live-daemon reload test and anyone checking a deployment by hand. Each
function returns the text of a whole rule file and says on which line the refusal must point.
"""

from __future__ import annotations

from dataclasses import dataclass

_RULE = """\
id: {id}
title: Hostile rule
description: Written to be refused.
severity: high
risk_score: 50
reasons: ["{{user.id}} did it"]
condition: {condition}
"""


@dataclass(frozen=True, slots=True)
class HostileFile:
    """A file's text and the 1-based line a refusal must name."""

    name: str
    text: str
    line: int
    message: str  # a fragment of the expected refusal


def alias_bomb(levels: int = 10, fan_out: int = 10) -> HostileFile:
    """ "Billion laughs": each anchor lists the previous one `fan_out` times (fan_out ** levels leaves)."""
    lines = ['a0: &a0 ["' + '","'.join(["lol"] * fan_out) + '"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * fan_out) + "]")
    text = "\n".join(lines) + "\n" + _RULE.format(id="alias-bomb", condition='user.id == "x"')
    return HostileFile("alias-bomb.yml", text, _budget_line(levels, fan_out), "alias bomb")


def _budget_line(levels: int, fan_out: int, budget: int = 100_000) -> int:
    """The line of the first anchor whose aliases take the expansion past `budget` nodes."""
    expanded, size = 0, fan_out + 1  # a0: the list and its scalars
    for i in range(1, levels):
        expanded += fan_out * size
        if expanded > budget:
            return i + 1
        size = 1 + fan_out * size
    return 0  # never refused


def deep_yaml(depth: int = 10_000) -> HostileFile:
    """A flow sequence nested `depth` deep, as the value of a key on line 8."""
    text = _RULE.format(id="deep-yaml", condition='user.id == "x"') + "extra: " + "[" * depth + "]" * depth
    return HostileFile("deep-yaml.yml", text + "\n", 8, "levels deep")


def deep_block_yaml(depth: int = 1_000) -> HostileFile:
    """Block mappings nested `depth` deep, one key per line (the text grows with depth squared)."""
    keys = "".join(f"{' ' * (i + 1)}k{i}:\n" for i in range(depth))
    text = (
        _RULE.format(id="deep-block", condition='user.id == "x"')
        + "extra:\n"
        + keys
        + " " * (depth + 1)
        + "end\n"
    )
    return HostileFile("deep-block.yml", text, 71, "levels deep")  # the key of the mapping at depth 65


def not_chain(depth: int = 1_000) -> HostileFile:
    """A condition of `depth` nested `not`s."""
    condition = "not " * depth + 'user.id == "x"'
    return HostileFile(
        "not-chain.yml", _RULE.format(id="not-chain", condition=condition), 7, "nested more than"
    )


def deep_parentheses(depth: int = 10_000) -> HostileFile:
    """A condition inside `depth` parentheses (quoted: YAML would read `(` as plain text anyway)."""
    condition = "'" + "(" * depth + 'user.id == "x"' + ")" * depth + "'"
    return HostileFile("deep-parens.yml", _RULE.format(id="deep-parens", condition=condition), 7, "condition")


def open_brackets(count: int = 3_000) -> HostileFile:
    """`count` unclosed `[` as a YAML value."""
    text = _RULE.format(id="open-brackets", condition='user.id == "x"') + "extra: " + "[" * count + "\n"
    return HostileFile("open-brackets.yml", text, 8, "levels deep")


def every_hostile_file() -> list[HostileFile]:
    """One of each, with the sizes issue 12 names."""
    return [alias_bomb(), deep_yaml(), open_brackets(), not_chain(), deep_parentheses()]

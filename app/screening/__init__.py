"""Pure negative-list screening against 《政府购买服务管理办法》第十条 (no I/O).

Parse a rules document once (`parse_rules` / `parse_rules_json`), compile it once
(`compile_rules`), then `screen` many items or `screen_one` item as it is saved.
"""

from app.screening.engine import Finding, Matcher, Screenable, ScreenItem, compile_rules, screen, screen_one
from app.screening.rules import Field, Rule, RuleSet, Severity, parse_rules, parse_rules_json

__all__ = [
    "Field",
    "Finding",
    "Matcher",
    "Rule",
    "RuleSet",
    "ScreenItem",
    "Screenable",
    "Severity",
    "compile_rules",
    "parse_rules",
    "parse_rules_json",
    "screen",
    "screen_one",
]

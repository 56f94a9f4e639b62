"""Detection: YAML rules compiled once into closures, run by a stateful engine over events.

Public surface: `load_ruleset`, `DetectionEngine`, `run_rule_tests`, `lint_ruleset` (see RULES.md).
"""

from auditwatch.detection.casetest import CaseResult, reference_from_rows, run_rule_tests
from auditwatch.detection.engine import DetectionEngine, DetectionFailure
from auditwatch.detection.lint import lint_ruleset
from auditwatch.detection.loader import load_ruleset
from auditwatch.detection.rule import Rule, RuleSet

__all__ = [
    "CaseResult",
    "DetectionEngine",
    "DetectionFailure",
    "Rule",
    "RuleSet",
    "lint_ruleset",
    "load_ruleset",
    "reference_from_rows",
    "run_rule_tests",
]

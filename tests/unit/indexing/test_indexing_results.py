"""Per-item bulk outcomes: which statuses are done, retried, or refused for good."""

from __future__ import annotations

import pytest

from auditwatch.indexing.results import Outcome, classify, error_reason, item_results


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (201, Outcome.CREATED),
        (200, Outcome.CREATED),
        (409, Outcome.DUPLICATE),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
        (401, Outcome.RETRY),
        (403, Outcome.RETRY),
        (400, Outcome.REJECT),
        (404, Outcome.REJECT),
        (413, Outcome.REJECT),
    ],
)
def test_classify(status: int, outcome: Outcome) -> None:
    """2xx and 409 are done; overload, server and permission errors wait; other 4xx are the document's."""
    assert classify(status) is outcome


def test_item_results_in_request_order_with_reasons() -> None:
    """Each item's outcome and a readable reason including the cause."""
    response = {
        "errors": True,
        "items": [
            {"create": {"status": 201}},
            {"create": {"status": 409, "error": {"type": "version_conflict_engine_exception"}}},
            {
                "create": {
                    "status": 400,
                    "error": {
                        "type": "document_parsing_exception",
                        "reason": "failed to parse field [source.ip]",
                        "caused_by": {"type": "illegal_argument_exception", "reason": "'x' is not an IP"},
                    },
                }
            },
            {"create": {"status": 429, "error": {"type": "es_rejected_execution_exception"}}},
        ],
    }
    results = item_results(response, 4)
    assert [r[0] for r in results] == [Outcome.CREATED, Outcome.DUPLICATE, Outcome.REJECT, Outcome.RETRY]
    assert results[2][2] == (
        "document_parsing_exception: failed to parse field [source.ip] "
        "(caused by illegal_argument_exception: 'x' is not an IP)"
    )


def test_item_count_mismatch_is_an_error() -> None:
    """A response that does not cover every operation is never guessed at."""
    with pytest.raises(ValueError, match="1 items for 2"):
        item_results({"items": [{"create": {"status": 201}}]}, 2)


def test_error_reason_of_nothing() -> None:
    """No error object gives an empty reason; a plain string is kept."""
    assert error_reason(None) == ""
    assert error_reason("boom") == "boom"

"""The kopf settings: how long and how often a failed API request is tried again."""

from __future__ import annotations

import kopf
from aijob_operator.kopf_settings import configure


def test_api_errors_are_retried_every_2s_at_most_for_minutes() -> None:
    settings = kopf.OperatorSettings()
    configure(settings)
    backoffs = list(settings.networking.error_backoffs)  # type: ignore[arg-type]
    # After an API server outage the AIJob watch is back within 2 s of the API server.
    assert max(backoffs) <= 2
    # And it outlasts an outage of 5 minutes before kopf gives the watch up.
    assert sum(backoffs) >= 300

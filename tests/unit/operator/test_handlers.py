"""What the AIJob watch handler puts first in the work queue."""

from __future__ import annotations

import pytest
from aijob_operator.handlers.aijobs import needs_action


@pytest.mark.parametrize(
    ("body", "urgent"),
    [
        ({"spec": {}}, True),
        ({"spec": {}, "status": {"phase": "Pending", "reason": "WaitingForTrainingJob"}}, True),
        ({"spec": {}, "status": {"phase": "Running", "jobName": "a"}}, False),
        ({"spec": {"cancel": True}, "status": {"phase": "Running", "jobName": "a"}}, True),
        ({"spec": {"cancel": True}, "status": {"phase": "Cancelled", "jobName": "a"}}, False),
        ({"spec": {}, "status": {"phase": "Succeeded", "jobName": "a"}}, False),
    ],
)
def test_what_goes_first(body: dict[str, object], urgent: bool) -> None:
    assert needs_action(body) is urgent

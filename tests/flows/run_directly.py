"""Run `onboard_app` in this process, not through a deployment, against the Prefect server at PREFECT_API_URL.

    python -m tests.flows.run_directly '<OnboardingRequest as JSON>'

Prints one line, `RESULT ` and JSON: the flow run's ID, its final state type and the raised error's text (if any). A run
that needs no suspension runs this way; the flow suite uses it for a run against a second simulator.
"""

from __future__ import annotations

import json
import sys

from ascflow.pipeline.request import OnboardingRequest
from flows.onboard import onboard_app

RESULT = "RESULT "


def main(argv: list[str]) -> None:
    request = OnboardingRequest.model_validate_json(argv[0])
    state = onboard_app(request, return_state=True)
    error = state.result(raise_on_failure=False)
    print(
        RESULT
        + json.dumps(
            {
                "flow_run_id": str(state.state_details.flow_run_id),
                "type": state.type.value,
                "error": str(error) if isinstance(error, BaseException) else None,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])

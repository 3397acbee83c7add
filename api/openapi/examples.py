"""A valid body for every request model (schemathesis' positive cases start from these, so
that they are accepted and solved, not only refused); tests/api check that each one is."""

from __future__ import annotations

EXAMPLE_PROBLEM = {
    "vehicles": [{"id": "van-1", "start": [13.405, 52.52], "end": [13.405, 52.52], "capacity": [10],
                  "time_window": [28800, 61200]}],
    "stops": [{"id": "bakery", "location": [13.3777, 52.5163], "demand": [3], "service": 300,
               "time_windows": [[28800, 43200]]},
              {"id": "cafe", "location": [13.4125, 52.5219], "demand": [4], "service": 240}],
    "options": {"time_limit": 1},
}
NEW_STOP = {"id": "florist", "location": [13.3889, 52.5170], "demand": [2], "service": 180,
            "time_windows": [[32400, 46800]]}
ENDPOINT = {"url": "https://93.184.216.34/routefarm-hooks", "event_types": ["job.succeeded"],
            "description": "dispatch board"}
EXAMPLES = {  # by model name
    "JobRequest": {"problem": EXAMPLE_PROBLEM, "metadata": {"route_day": "2026-12-03"}},
    "BatchRequest": {"jobs": [{"problem": EXAMPLE_PROBLEM},
                              {"problem": {**EXAMPLE_PROBLEM, "stops": EXAMPLE_PROBLEM["stops"][:1]}}],
                     "metadata": {"depot": "berlin"}},
    "ReoptimizeBody": {"at": 36000, "cancel_stops": ["cafe"], "time_limit": 1},
    "BatchReoptimizeRequest": {"jobs": [{"job_id": "01a2b3c4-0000-7000-8000-000000000000"}],
                               "changes": {"at": 36000, "cancel_stops": ["cafe"]}},
    "InsertionRequest": {"stops": [NEW_STOP], "limit": 3},
    "InsertionApplyRequest": {"stops": [NEW_STOP], "choice": {"vehicle_id": "van-1", "after": "bakery"},
                              "time_limit": 1},
    "WebhookEndpointCreate": ENDPOINT,
    "WebhookEndpointUpdate": {"description": "dispatch board (night shift)", "enabled": True},
}

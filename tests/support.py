"""Small values and helpers shared by the test modules (conftest.py holds the fixtures)."""

from __future__ import annotations

from fastly_pools import OutcomeState, RetryPolicy
from fastly_pools.testing import FakeFastly

# Retries happen at once in tests; server-directed waits are still honoured up to 10 s.
NO_WAIT = RetryPolicy(initial_wait=0.0, max_wait=0.0, jitter=0.0, max_server_wait=10.0)

S, F, N, U = (
    OutcomeState.SUCCEEDED,
    OutcomeState.FAILED,
    OutcomeState.NOT_SENT,
    OutcomeState.UNKNOWN,
)


def seed(fake: FakeFastly, count: int) -> list[str]:
    """`count` services, each with an editable version 1 holding a pool "origin"."""
    services = [fake.add_service() for _ in range(count)]
    for service_id in services:
        fake.seed_pool(service_id, 1, "origin", quorum=10)
    return services

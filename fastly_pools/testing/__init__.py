"""A stateful fake of Fastly's pool API for tests: `FakeFastly` and its fault records.

Depends on aiohttp and the standard library only. The pytest fixture lives in
`fastly_pools.testing.pytest_plugin` (enable it with `pytest_plugins = [...]`).
"""

from ._budget import WriteBudget
from ._fake import FakeFastly, serve_forever
from ._faults import Fault, FaultKind
from ._journal import OverlappingWrite, ReceivedRequest

__all__ = [
    "FakeFastly",
    "Fault",
    "FaultKind",
    "OverlappingWrite",
    "ReceivedRequest",
    "WriteBudget",
    "serve_forever",
]

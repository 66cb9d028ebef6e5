"""What `st run` loads through `schemathesis.toml` (`hooks`): kafkagate's error-envelope check
(`tests/contract/fuzz_checks.py`) and how generated requests are shaped before they are sent
(`tests/contract/fuzz_requests.py`). Importing a module registers its hooks with schemathesis."""

from __future__ import annotations

from tests.contract import fuzz_checks, fuzz_requests

__all__ = ["fuzz_checks", "fuzz_requests"]

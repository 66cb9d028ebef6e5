"""Views over event logs (seed 002): deterministic CEL state machines folded over a log by view hosts."""

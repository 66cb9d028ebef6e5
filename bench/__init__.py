"""Benchmarks of the hot paths against raw aiokafka."""

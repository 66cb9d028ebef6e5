"""Kafka adapters: the only gateway modules that import aiokafka."""

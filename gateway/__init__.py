"""kafkagate's HTTP gateway."""

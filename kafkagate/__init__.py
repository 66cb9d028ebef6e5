"""kafkagate's client side: the typed HTTP client (`kafkagate.client`) and the command line (`kafkagate.cli`).

Nothing here imports the gateway, Kafka or Faust, so a program that only talks to a gateway stays light.
"""

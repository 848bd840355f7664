"""The transactional outbox: events written with their change, relayed later at least once."""

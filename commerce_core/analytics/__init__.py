"""Behaviour events (R6.2-1) and the figures the back-office dashboard draws from them (R6.1)."""

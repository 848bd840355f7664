"""Anomaly alerts at the edge: their settings (``SHOPBOT_ALERTS_*``), the outbox subscribers that run
the core's rules and tell staff, and the wording shared by the staff group and the back office."""

"""Operations: Prometheus metrics, structured logs, and the hooks the pipeline and HTTP app call.

Behaviour events, dashboards and anomaly alerts belong beside these modules (``bot/observability/
events.py`` ...), fed by the same :class:`~bot.observability.metrics.TurnObserver` hook the pipeline
calls once per turn.
"""

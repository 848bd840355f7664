"""Dialog flows. Each module declares its :class:`Flow` values; ``registry`` lists them all."""

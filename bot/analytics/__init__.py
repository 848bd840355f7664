"""The edge of behaviour analytics: turns' notes become events; the settings for them (R6.2-1)."""

"""Anomaly alerts and fake-order signals (R3.4-2, R5.1-3, R4.1-6): rules over committed facts, alerts
stored once per rule, subject and window, and staff's acknowledgement."""

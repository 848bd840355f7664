"""Operator accounts: staff, merchant users and applicants who sign in to the back office."""

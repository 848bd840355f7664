"""Uploaded files (licences, product images) kept behind one small interface."""

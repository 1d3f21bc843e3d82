"""Widgets the console screens share."""

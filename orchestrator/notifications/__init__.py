"""Notifications: e-mail and webhook messages about failed runs, cases for a person, SLA
breaches and lost robots."""

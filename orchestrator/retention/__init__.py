"""Deletion on time: run evidence, reports, logs and work-item payloads past their retention."""

"""Reports for Fachämter: a run report, a period report, and key figures as Open Data."""

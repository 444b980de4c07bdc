"""The recorder: captures clicks and typing in a browser and writes them as bot.yaml steps.

Not built yet. Its seam is fixed: it produces :mod:`orchestrator.model` steps (never Python),
preferring locators in the order of :data:`orchestrator.model.locators.STRATEGIES`, declaring
typed values into password fields as ``secrets`` instead of writing them down.
"""

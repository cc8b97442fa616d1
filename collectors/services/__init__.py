"""Collector logic: polling, discovery, roll-ups, config backup. Tasks and commands call these."""

"""Offline models, descriptions, datasets, dynamic gears and the executor."""

"""Data layer: file layout, reading and checking files, the store, demo and export.

Imports nothing from ``queries`` or ``dashboard``.
"""

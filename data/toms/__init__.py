"""The TOMS Student Score Data File: its yearly layouts, reading, checking and writing it."""

"""The seeded synthetic demo: invented people and places written as real TOMS files."""

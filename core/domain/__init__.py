"""Entities and rules of CVST 1~5:2024. Plain Python: no framework is imported here."""

"""What the checklist expects of each component, as profile sub-tables (``[redis.expect]`` and so on).

Connection settings live in ``profile.py``; expectations live here, one module per checklist area, so the
check functions and their thresholds are documented side by side.
"""

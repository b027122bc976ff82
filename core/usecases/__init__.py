"""Use cases: plain functions that take ports (and the SQL store) as arguments."""

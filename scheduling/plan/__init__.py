"""Planning the best day: the waiting list, the day as plain data and the greedy plan (day.py,
pure), the loader that reads it from the database, proposing and applying a plan, what-ifs and
backfill suggestions. The solver itself is scheduling/optimiser.py."""

"""Planning the best day: the waiting list, the optimiser's loader, applying a plan, what-ifs and
backfill suggestions. The solver itself (scheduling/optimiser.py) is pure; these modules read
and write the database around it."""

"""Planning the best day: the waiting list, the day as plain data and the greedy plan (day.py,
pure), the loader that reads it from the database, proposing and applying a plan, what-ifs and
backfill suggestions. The solver (solver.py, OR-Tools CP-SAT) plans the day and colouring.py names
the rooms and bays of its pools; runs.py has a Celery worker do it off the request path."""

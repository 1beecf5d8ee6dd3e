"""Routing for the 1022 and 115 hotlines: plain Python on plain data (no Flask, no database).

- ``routing.engine.route_1022``: which contact point gets a 1022 request, why, how sure.
- ``routing.location.locate``: the caller's ward and district from a code, a point or words.
- ``routing.rules``: the routing rules of ``data/directory/routing_rules.csv``.
- ``routing.classifier`` / ``routing.train``: the category classifier and its training.
- ``routing.hospitals.rank`` / ``routing.dispatch``: 115 hospitals and re-dispatch.
- ``routing.duplicates.find_candidates``: possible duplicates among open tickets.
"""

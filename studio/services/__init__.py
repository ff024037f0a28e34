"""Use cases: the only API the UI, the CLI and sync call. Each opens and commits its own unit
of work and returns domain objects, never ORM rows."""

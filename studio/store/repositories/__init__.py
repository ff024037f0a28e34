"""Repositories: the only code that queries the ORM models, one module per aggregate."""

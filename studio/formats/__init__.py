"""Import and export formats: text in, plain dicts out (no Qt, no database)."""

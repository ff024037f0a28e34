"""The local SQLite database: engine, models, migrations on open, backups, repositories."""

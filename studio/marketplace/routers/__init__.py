"""One router per resource: meta, accounts, stories, forks, sync."""

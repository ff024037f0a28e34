"""Privileges of the app role on the tables of migration 0003 (ideas board, jobs, analyses,
search, deletions).  ``security.grant_statements`` grants them to the app role only — never to
PUBLIC — so another role in the same database gets nothing."""

APP_PRIVILEGES_0003 = {
    "idea_categories": "SELECT, INSERT, UPDATE, DELETE",
    "idea_topics": "SELECT, INSERT, UPDATE, DELETE",
    "ideas": "SELECT, INSERT, UPDATE, DELETE",
    "idea_tags": "SELECT, INSERT, DELETE",
    "jobs": "SELECT, INSERT, UPDATE",
    "analyses": "SELECT, INSERT",  # append-only
    "story_search": "SELECT, INSERT, UPDATE, DELETE",
    "story_deletions": "SELECT, INSERT",
}
SEQUENCES_0003 = ["idea_categories_id_seq", "idea_topics_id_seq", "ideas_id_seq",
                  "jobs_id_seq", "analyses_id_seq"]

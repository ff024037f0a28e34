"""Pure rules of Story Studio: no Qt, no SQL, no network, no files."""

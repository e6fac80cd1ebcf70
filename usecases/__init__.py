"""Use cases: one async function per write (TEAM.md, CONVENTIONS.md "usecases/")."""

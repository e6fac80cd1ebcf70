"""Write use cases: one async function per write (CONVENTIONS.md, "usecases/")."""

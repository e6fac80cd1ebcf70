"""Writes: one async function per write (docs: /work/shared/CONVENTIONS.md, "usecases/")."""

"""Use cases: one async function per write, called by resolvers, jobs and the CLI alike
(docs: CONVENTIONS.md, "usecases/")."""

"""One async function per write: (command, grant or principal, unit of work, ports) -> result
or a domain error. No strawberry, no Starlette: a resolver, a CLI or the EHR feed calls the
same function (docs/patient-tasks.md lists the ones of issue 16)."""

"""Guards that make authorization impossible to forget, checked on the source itself.

- a PatientGrant is built only in domain/access.py (AST lint);
- every field of the GraphQL `Patient` type declares how it is authorized;
- the layers import downwards only (portal/ -> schema/ -> resolvers/ -> usecases/ ->
  runtime/ -> loaders/ -> persistence/ -> domain/), domain/ imports no framework or I/O
  library, and no module of ours imports itself back through others (no import cycles);
- the access policy's own tests cover every branch of domain/access.py;
- a bearer token is read in one place, the edge that authenticates (portal/auth.py).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from graphql import GraphQLNonNull, GraphQLObjectType
from strawberry.types.field import StrawberryField

from portal.api import schema
from schema import patients as patient_schema
from schema.base import RequiresScope

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "domain",
    "persistence",
    "loaders",
    "runtime",
    "usecases",
    "resolvers",
    "schema",
    "portal",
)
OURS = frozenset({*PACKAGES, "tests", "bench"})
ISSUER = ROOT / "domain" / "access.py"


def source_files(*packages: str) -> Iterator[Path]:
    for package in packages:
        yield from sorted((ROOT / package).rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# -- (a) PatientGrant is issued by domain/access.py only -------------------------------
ISSUING_NAMES = frozenset({"PatientGrant", "_ISSUED", "_issue"})


def grant_forgeries(source: str) -> list[tuple[int, str]]:
    """Lines that build a PatientGrant or touch the private issuing machinery."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name == "PatientGrant":
                found.append((node.lineno, "calls PatientGrant(...)"))
        elif isinstance(node, ast.Attribute) and node.attr in ISSUING_NAMES - {"PatientGrant"}:
            found.append((node.lineno, f"uses {node.attr}"))
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in ISSUING_NAMES - {"PatientGrant"}:
                    found.append((node.lineno, f"imports {alias.name}"))
                elif alias.name == "PatientGrant" and alias.asname not in (None, "PatientGrant"):
                    found.append((node.lineno, f"renames PatientGrant to {alias.asname}"))
    return found


@pytest.mark.parametrize(
    ("source", "found"),
    [
        pytest.param(
            "PatientGrant('a', 'p', None, rel)", [(1, "calls PatientGrant(...)")], id="call"
        ),
        pytest.param(
            "access.PatientGrant(*args)", [(1, "calls PatientGrant(...)")], id="attribute"
        ),
        pytest.param("from domain.access import _ISSUED", [(1, "imports _ISSUED")], id="proof"),
        pytest.param("x = access._issue(p, c, None)", [(1, "uses _issue")], id="issuer"),
        pytest.param(
            "from domain.access import PatientGrant as G",
            [(1, "renames PatientGrant to G")],
            id="alias",
        ),
        pytest.param("def f(g: PatientGrant) -> PatientGrant: ...", [], id="annotation-is-fine"),
    ],
)
def test_the_forgery_lint_finds_what_it_should(source: str, found: list[tuple[int, str]]) -> None:
    assert grant_forgeries(source) == found


def test_patient_grants_are_built_only_by_the_access_policy() -> None:
    offences = [
        f"{relative(path)}:{line}: {what}"
        for path in source_files(*PACKAGES)
        if path != ISSUER
        for line, what in grant_forgeries(path.read_text())
    ]
    assert offences == [], "only domain/access.py issues PatientGrants:\n" + "\n".join(offences)


# -- (b) every Patient field declares how it is authorized -----------------------------
def test_every_patient_field_declares_its_authorization() -> None:
    # SELF_ONLY_FIELDS may hold GraphQL names, DEMOGRAPHICS_FIELDS holds python names.
    declared = {*patient_schema.DEMOGRAPHICS_FIELDS, *patient_schema.SELF_ONLY_FIELDS}
    patient_type = schema._schema.get_type("Patient")
    assert isinstance(patient_type, GraphQLObjectType)
    problems: list[str] = []
    names: set[str] = set()
    for graphql_name, field in patient_type.fields.items():
        definition = field.extensions["strawberry-definition"]
        assert isinstance(definition, StrawberryField)
        python_name = definition.python_name
        names |= {graphql_name, python_name}
        scoped = any(isinstance(e, RequiresScope) for e in definition.extensions)
        listed = bool({graphql_name, python_name} & declared)
        if scoped and listed:
            problems.append(f"Patient.{python_name} has RequiresScope and is also listed")
        elif scoped and isinstance(field.type, GraphQLNonNull):
            problems.append(f"Patient.{python_name} has RequiresScope but is not nullable")
        elif not scoped and not listed:
            problems.append(
                f"Patient.{python_name} ({graphql_name}) declares no authorization: give it "
                "extensions=[RequiresScope(RecordArea.X, 'Type')], or list it in "
                "DEMOGRAPHICS_FIELDS or SELF_ONLY_FIELDS in schema/patients.py"
            )
    problems += [f"{name} is listed but Patient has no such field" for name in declared - names]
    assert problems == [], "\n".join(problems)


# -- (d) layers import downwards only ---------------------------------------------------
def module_name(path: Path) -> list[str]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """Every module `path` imports, anywhere in it (functions, TYPE_CHECKING blocks too)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path)[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            yield node.lineno, ".".join([*base, *([node.module] if node.module else [])])


FRAMEWORKS_AND_IO = frozenset(
    {"sqlalchemy", "strawberry", "starlette", "graphql", "aiodataloader", "alembic"}
    | {"asyncpg", "aiosqlite", "redis", "httpx", "uvicorn"}
)
# The layers from the top: each may import those below it, never one above. The edge is
# portal/; runtime/ is the process's services (settings, security, metrics, real time).
LAYERS = (
    "portal",
    "schema",
    "resolvers",
    "usecases",
    "runtime",
    "loaders",
    "persistence",
    "domain",
)
GRAPHQL_AND_HTTP = frozenset({"strawberry", "starlette", "graphql"})


def _above(package: str) -> frozenset[str]:
    return frozenset(LAYERS[: LAYERS.index(package)])


LAYER_RULES = [
    pytest.param("schema", _above("schema"), id="schema"),
    pytest.param("resolvers", _above("resolvers"), id="resolvers"),
    # Use cases serve resolvers, jobs and the CLI alike: nothing of the edge or GraphQL.
    pytest.param("usecases", _above("usecases") | GRAPHQL_AND_HTTP, id="usecases"),
    pytest.param("runtime", _above("runtime"), id="runtime"),
    pytest.param("loaders", _above("loaders"), id="loaders"),
    pytest.param("persistence", _above("persistence"), id="persistence"),
    pytest.param("domain", (OURS - {"domain"}) | FRAMEWORKS_AND_IO, id="domain"),
]


@pytest.mark.parametrize(("package", "forbidden"), LAYER_RULES)
def test_layers_import_downwards_only(package: str, forbidden: frozenset[str]) -> None:
    offences = [
        f"{relative(path)}:{line}: imports {module}"
        for path in source_files(package)
        for line, module in imported_modules(path)
        if module.split(".")[0] in forbidden
    ]
    assert offences == [], f"{package}/ must not import {sorted(forbidden)}:\n" + "\n".join(
        offences
    )


def module_of(name: str) -> str | None:
    """The module file an imported name stands for (`schema.people` or `schema`), if ours."""
    parts = name.split(".")
    while parts:
        path = ROOT.joinpath(*parts)
        if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
            return ".".join(parts)
        parts.pop()
    return None


def deferred_imports(tree: ast.Module) -> set[ast.AST]:
    """The import statements of a module that do not run when it is imported: those under
    `if TYPE_CHECKING:` and those inside a function body."""
    deferred: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and not ast.unparse(node.test).endswith("TYPE_CHECKING"):
            continue
        if isinstance(node, ast.If | ast.FunctionDef | ast.AsyncFunctionDef):
            deferred |= {
                n
                for statement in node.body
                for n in ast.walk(statement)
                if isinstance(n, ast.Import | ast.ImportFrom)
            }
    return deferred


def import_graph(*, type_graph: bool = True) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports, anywhere in it (TYPE_CHECKING and function
    bodies too): `from a import b` names the module a.b when b is one, else a.

    Without `type_graph`, an import from one schema/ module of another that does not run at
    import time is left out: GraphQL object types refer to each other (an Appointment's
    after-visit summary is a ClinicalNote, whose appointment is that Appointment; most types
    lead back to their Patient), and their modules name each other the way strawberry
    documents for that, in annotations (`strawberry.lazy`) and in the field that builds the
    other type. Every other import, between any two modules, counts."""
    graph: dict[str, set[str]] = {}
    for path in source_files(*PACKAGES):
        name = ".".join(module_name(path))
        targets = graph.setdefault(name, set())
        tree = ast.parse(path.read_text())
        deferred = set() if type_graph else deferred_imports(tree)
        package = module_name(path) if path.name == "__init__.py" else module_name(path)[:-1]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                module = ".".join([*base, *([node.module] if node.module else [])])
                names = [f"{module}.{alias.name}" for alias in node.names]
            else:
                continue
            for imported in names:
                target = module_of(imported)
                if target is None or target == name:
                    continue
                if node in deferred and name.startswith("schema.") and target.startswith("schema."):
                    continue
                targets.add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while (member := stack.pop()) != module:
                component.append(member)
            component.append(module)
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


def test_schema_names_persistence_rows_in_annotations_only() -> None:
    """Types convert rows, so they name row types; they never call persistence/ (sessions,
    queries): its imports sit under `if TYPE_CHECKING:`."""
    offences = []
    for path in source_files("schema"):
        tree = ast.parse(path.read_text())
        checking = {
            n
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
            for statement in node.body
            for n in ast.walk(statement)
        }
        offences += [
            f"{relative(path)}:{node.lineno}: {ast.unparse(node)}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            and node not in checking
            and any(m.split(".")[0] == "persistence" for _, m in _names(node))
        ]
    assert offences == [], "schema/ may import persistence/ under TYPE_CHECKING only:\n" + (
        "\n".join(offences)
    )


def _names(node: ast.Import | ast.ImportFrom) -> list[tuple[int, str]]:
    if isinstance(node, ast.Import):
        return [(node.lineno, alias.name) for alias in node.names]
    return [(node.lineno, node.module or "")]


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_deferred_imports_are_those_under_type_checking_or_in_a_function() -> None:
    tree = ast.parse("import a\nif TYPE_CHECKING:\n    import b\ndef f():\n    import c\n")
    assert sorted(ast.unparse(n) for n in deferred_imports(tree)) == ["import b", "import c"]


def test_no_module_imports_itself_back() -> None:
    found = cycles(import_graph(type_graph=False))
    assert found == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


# -- (e) tokens are decoded at the edge only ----------------------------------------------
# Where each way of reading a token may appear: jwt.decode in the token issuer, its
# `verify` and the bearer header's parsing in the edge that authenticates.
TOKEN_READERS = {
    # Our access tokens in runtime/security.py; an identity provider's ID tokens (joserfc,
    # signed with the provider's keys, never a bearer of ours) in runtime/oidc.py.
    "jwt.decode": {"runtime/security.py", "runtime/oidc.py"},
    "tokens.verify": {"portal/auth.py"},
    "bearer_token": {"portal/auth.py"},
}


def token_readers(source: str) -> list[tuple[int, str]]:
    """Lines that decode a JWT, verify an access token or parse a bearer header."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            call = ast.unparse(node.func)
            found += [(node.lineno, name) for name in TOKEN_READERS if call.endswith(name)]
    return found


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import jwt\njwt.decode(t, k)", [(2, "jwt.decode")]),
        ("services.tokens.verify(t, now)", [(1, "tokens.verify")]),
        ("bearer_token(header)", [(1, "bearer_token")]),
        ("jwt.encode(c, k)\nauth.authenticate(s, h, n, a)", []),
    ],
)
def test_the_token_lint_finds_what_it_should(source: str, found: list[tuple[int, str]]) -> None:
    assert token_readers(source) == found


def test_tokens_are_decoded_only_at_the_edge() -> None:
    """Issue 14: one edge authenticates; no route, socket or resolver reads a token itself."""
    offences = [
        f"{relative(path)}:{line}: {name}"
        for path in source_files(*PACKAGES)
        for line, name in token_readers(path.read_text())
        if relative(path) not in TOKEN_READERS[name]
    ]
    assert offences == [], "read tokens in portal/auth.py only:\n" + "\n".join(offences)


def test_relative_imports_are_resolved() -> None:
    generator = ROOT / "persistence" / "demodata" / "check.py"
    modules = {module for _, module in imported_modules(generator)}
    assert {"persistence.demodata", "persistence.demodata.generator"} <= modules


# -- the access policy is proven by its own table of cases -----------------------------
def test_access_tests_cover_every_branch_of_the_policy(tmp_path: Path) -> None:
    """Runs tests/domain/test_access.py alone under coverage (settings in pyproject.toml).

    A subprocess, so that the policy is measured from its import on, by its own tests only
    (not by API tests that happen to pass through it), with a data file of its own, and
    without slowing every other test down with a tracer.
    """
    access_tests = ["tests/domain/test_access.py", "-q", "-p", "no:cacheprovider"]
    run = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [sys.executable, "-m", "pytest", *access_tests, "--cov", "--cov-report=term-missing"],
        cwd=ROOT,
        env={**os.environ, "COVERAGE_FILE": str(tmp_path / ".coverage")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, "domain/access.py lacks branch coverage:\n" + run.stdout[-3000:]
    assert "Total coverage: 100.00%" in run.stdout  # the fail_under gate did run

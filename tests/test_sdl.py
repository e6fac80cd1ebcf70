"""schema.graphql is the API clients see; it must match the code (run `make schema`)."""

from pathlib import Path

from portal.sdl import sdl

SDL_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_committed_sdl_matches_code() -> None:
    assert SDL_FILE.read_text() == sdl(), "schema.graphql is stale: run `make schema`"

"""Print the schema's SDL: `python -m portal.sdl > schema.graphql`."""

from portal.api import schema


def sdl() -> str:
    return schema.as_str() + "\n"


if __name__ == "__main__":
    print(sdl(), end="")

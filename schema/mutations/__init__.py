"""Mutation fields by area: each module holds one `@strawberry.type` class of mutation
fields (`AppointmentMutations`, ...) and schema/mutation.py composes them into `Mutation`.

They live apart from the area's types (schema/<area>.py) because they name resolvers, and
resolvers build those types: keeping them here avoids an import cycle.
"""

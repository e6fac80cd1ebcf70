"""Moved: the payload decorators live in schema/payloads.py (issue 14); this module goes when
the last resolver stops importing it."""

from schema.payloads import account_action, one_per_request, user_errors

__all__ = ["account_action", "one_per_request", "user_errors"]

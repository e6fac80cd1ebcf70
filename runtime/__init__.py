"""Stand-in for main's runtime/ package (the lead's move of portal/security.py), replaced by it
at the merge."""

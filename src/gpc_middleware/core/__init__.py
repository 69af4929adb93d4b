"""The consent model, sans-IO: categories, consent values, the signed cookie, the GPC signal, CSRF,
request and response values, consent events, jurisdiction, IAB strings.

Imports nothing else from the package: every other part builds on it.
"""

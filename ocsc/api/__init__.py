"""The JSON REST API, v1 (django-ninja): thin adapters over the actions and queries.

Each endpoint parses its input schema, authenticates, calls one action or query and renders
an output schema. Rules live in `ocsc.cases` and `ocsc.accounts`, never here.
"""

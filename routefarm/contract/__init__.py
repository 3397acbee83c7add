"""The HTTP contract as pydantic models, the one source of the API's schemas.

``requests``: the request bodies and query strings, which the endpoints validate with these
models and ``/openapi.json`` documents from them. ``documents``: the response documents the
farm builds (tests hold every answer of the app against them). ``problems``: RFC 9457 problem
details, the body of every error. ``api.openapi`` assembles the document from these models
and the operations each view declares.
"""

"""Open311 GeoReport v2 at /open311/v2/: complaint-type services, in JSON and XML.

`queries` finds services and requests in the caller's scope, `present` maps them to the
spec's fields, `render` writes JSON or XML, `views` parses, authenticates and calls."""

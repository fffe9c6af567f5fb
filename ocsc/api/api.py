"""The API instance: routers, authentication defaults and error handlers."""

from ninja import NinjaAPI
from ninja.renderers import JSONRenderer

from ocsc.api import applications, auth, catalog, errors
from ocsc.api.docs import LocalSwagger

DESCRIPTION = """\
The JSON API of OCSC (Online Civic Services Center): the service catalog, sign-in, applying
for a service, following an application's timeline, and acting on it.

Authenticate with `Authorization: Bearer <token>` (get one from `POST /auth/token`), or
with the portal's session (unsafe methods then need the `X-CSRFToken` header).
Errors are `{detail, code, errors?}`; `errors` maps fields (`data.connection_size`,
`documents.cnic_copy`, `phone`) to what is wrong with them. See docs/api.md.
"""


class Utf8Json(JSONRenderer):
    """JSON in UTF-8 as it is (Urdu and Pashto are not escaped: half the bytes on a phone)."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    title="OCSC API",
    version="1",
    description=DESCRIPTION,
    docs=LocalSwagger(),
    urls_namespace="api-v1",
    renderer=Utf8Json(),
)
errors.install(api)
api.add_router("", auth.router)
api.add_router("", catalog.router)
api.add_router("", applications.router)

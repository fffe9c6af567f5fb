"""GeoReport v2's two formats: JSON as the data is, and XML with the spec's element names
(a list is a parent of singular children: services/service, attributes/attribute, …)."""

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from django.http import HttpResponse

# The child element of each list.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
# Characters XML 1.0 cannot carry at all (ElementTree would write them, ill-formed).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def element(tag: str, value: Any) -> ET.Element:
    node = ET.Element(tag)
    if isinstance(value, dict):
        for key, item in value.items():
            node.append(element(key, item))
    elif isinstance(value, list):
        for item in value:
            node.append(element(ITEMS[tag], item))
    else:
        node.text = _text(value)
    return node


def render(fmt: str, root: str, data: Any, *, status: int = 200) -> HttpResponse:
    """`data` as JSON, or as XML under the root element `root`."""
    if fmt == "xml":
        body = ET.tostring(element(root, data), encoding="utf-8", xml_declaration=True)
        return HttpResponse(body, content_type="text/xml; charset=utf-8", status=status)
    return HttpResponse(
        json.dumps(data, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
        status=status,
    )


def errors(fmt: str, status: int, descriptions: list[str]) -> HttpResponse:
    """The spec's error list: one `{code, description}` per problem, code being the status."""
    rows = [{"code": status, "description": text} for text in descriptions]
    return render(fmt, "errors", rows, status=status)

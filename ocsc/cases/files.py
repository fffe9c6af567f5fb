"""Uploaded files: PDF, JPEG or PNG, recognized by their content, within a size limit."""

import hashlib

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


class FileRefused(ValueError):
    pass


def check_file(upload: UploadedFile[bytes]) -> tuple[str, str, int]:
    """(content type, sha256, size) of an acceptable file, or FileRefused saying why."""
    limit = settings.UPLOAD_MAX_BYTES
    size = upload.size or 0
    name = upload.name or "file"
    if size > limit:
        raise FileRefused(
            _("%(name)s is %(size).1f MB; files may be at most %(limit).0f MB.")
            % {"name": name, "size": size / 1_000_000, "limit": limit / 1_000_000}
        )
    if size == 0:
        raise FileRefused(_("%(name)s is empty.") % {"name": name})
    upload.seek(0)
    head = upload.read(16)
    content_type = next((kind for magic, kind in SIGNATURES if head.startswith(magic)), None)
    if content_type is None:
        raise FileRefused(
            _("%(name)s is not a PDF, JPEG or PNG file (judged by its content).") % {"name": name}
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return content_type, digest.hexdigest(), size

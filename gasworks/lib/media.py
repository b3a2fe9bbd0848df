"""Handing a stored file (a photo, an export) to a reader whom the calling view has already let
through: no file has a public address, neither under /media/ nor in the object store.

With object storage the answer is a redirect to a link presigned for OBJECT_STORAGE_URL_EXPIRY
seconds, so the bytes go from the store to the browser and not through a web worker; on the file
system it is the file streamed from Django's default storage."""

from django.core.files.storage import Storage, default_storage
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header


def serve(
    name: str, *, storage: Storage | None = None, filename: str = "", attachment: bool = False
) -> HttpResponseBase:
    """The stored file `name` (a FieldFile's `.name`, or an export's) as a response; 404 when it
    is gone. `filename` is what a download is called; `attachment` makes it one."""
    storage = storage or default_storage
    if not name:
        raise Http404
    if getattr(storage, "presigns", False):
        parameters = {}
        if attachment:
            parameters["ResponseContentDisposition"] = content_disposition_header(True, filename or name)
        # Only ObjectStorage has `presigns`, and its url() takes the S3 parameters.
        link = storage.url(name, parameters=parameters)  # type: ignore[call-arg]
        response: HttpResponseBase = HttpResponseRedirect(link)
    else:
        try:
            handle = storage.open(name, "rb")
        except FileNotFoundError:
            raise Http404 from None
        # closed by the response
        response = FileResponse(
            handle, as_attachment=attachment, filename=filename or name.rsplit("/", 1)[-1]
        )
    # The answer depends on who asked: no shared cache may keep it (nor the link, which expires).
    response["Cache-Control"] = "private, no-store"
    return response

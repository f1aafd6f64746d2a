"""Evidence that application forms carry: a photo, as the published schema asks for it."""

import base64

# The smallest JPEG: the platform recognises it by its first bytes, as it would a real photo.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////"
    "////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=")
PHOTO = {"media_type": "image/jpeg", "content": base64.b64encode(JPEG).decode()}


def eid_form(reason: str = "renewal", **more: object) -> dict[str, object]:
    """An identity card application's form, with its photo."""
    return {"reason": reason, "photo": PHOTO, **more}

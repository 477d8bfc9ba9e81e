"""An image a client sends by URL (Chat Completions' `image_url` part, the Responses API's
`input_image`) as an Anthropic image block: an http(s) URL as a `url` source, a base64 `data:`
URL of a type Anthropic takes as a `base64` source. Anything else is a 400 naming the field."""

from __future__ import annotations

import re
from typing import Final

from shunt.openai.fields import JsonObject, invalid

# The image types Anthropic takes as base64 sources.
IMAGE_MEDIA_TYPES: Final = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
_DATA_URL: Final = re.compile(r"data:([^;,]+)((?:;[^;,]*)*),(.*)", re.DOTALL)


def image_block(url: str, param: str) -> JsonObject:
    """`param` names the URL's field. A data: URL's media type is read case-insensitively and
    its other parameters (`;charset=…`) are ignored, as browsers read them."""
    if url.startswith(("http://", "https://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    match = _DATA_URL.fullmatch(url)
    if match is None:
        raise invalid(param, "an image must be an http(s) URL or a base64 data: URL.")
    media_type, options, data = match.groups()
    if "base64" not in options.split(";"):
        raise invalid(param, "a data: URL image must be base64-encoded.")
    if media_type.lower() not in IMAGE_MEDIA_TYPES:
        raise invalid(
            param, f"the image type {media_type!r} is not one of {sorted(IMAGE_MEDIA_TYPES)}."
        )
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": media_type.lower(), "data": data},
    }

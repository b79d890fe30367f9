"""``delta`` frames: a frame sent as the difference from the frame before it.

Consecutive frames of a run have bodies of the same layout whose bytes mostly agree: the
weights' codes move by a code or two in a frame's period, most map codes and their ranges
(:func:`frame.map_ranges`) not at all, the neuron maps of the input features never. The byte
by byte difference (modulo 256) deflates to about half of the frame (largest net, fastest
speed: 6–7 KB instead of 15). A client that reads delta frames keeps the inflated body of
the last frame it got with maps and adds it back (:func:`frame.body_of`, the page's
``frame_decoder.js``); the server sends one only on the frame that client has
(live/outgoing.py, live/fanout.py).
"""

from __future__ import annotations

from typing import Any

from .frame import (
    CONTENT_FLAGS,
    FLAG_DELTA,
    FLAG_MAPS_SKIPPED,
    SHAPE_SYMBOLS,
    decode_header,
    deflate_body,
    maps_offset,
    pack_frame,
    subtract_bytes,
)

#: The header fields that, with the flags other than CONTENT_FLAGS, fix the body's layout.
LAYOUT_FIELDS = (*SHAPE_SYMBOLS, "layer_sizes", "body_bytes")


def same_layout(one: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether two frames' headers (:func:`frame.decode_header`) describe bodies whose arrays
    lie at the same bytes."""
    return (one["flags"] & ~CONTENT_FLAGS == other["flags"] & ~CONTENT_FLAGS
            and all(one[name] == other[name] for name in LAYOUT_FIELDS))


def delta_frame(data: bytes, body: bytes, base: bytes, base_body: bytes) -> bytes | None:
    """Frame ``data`` (inflated body ``body``) as the difference from frame ``base`` (inflated
    body ``base_body``): flag ``delta``, header ``base`` = base's sequence, the maps' part
    after a sync flush as in every frame (so :func:`frame.without_maps` cuts it too). None
    when the two bodies' layouts differ, or either frame is itself a delta frame or went
    without its maps."""
    header, base_header = decode_header(data), decode_header(base)
    if (header["flags"] | base_header["flags"]) & (FLAG_DELTA | FLAG_MAPS_SKIPPED):
        return None
    if not same_layout(header, base_header):
        return None
    packed, maps_at = deflate_body(subtract_bytes(body, base_body), maps_offset(header))
    header.update(flags=header["flags"] | FLAG_DELTA, base=base_header["sequence"],
                  maps_at=maps_at)
    return pack_frame(header, packed)

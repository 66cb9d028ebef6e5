"""The serializer of Faust tables and changelogs: JSON written by orjson. Faust's pickle codec is never used."""

from __future__ import annotations

from typing import Any

import orjson
from faust.serializers import codecs

CODEC = "kafkagate-orjson"


class OrjsonCodec(codecs.Codec):
    """Table values are JSON written by orjson. Faust's pickle codec is never used (it executes code)."""

    def _dumps(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def _loads(self, s: bytes) -> Any:
        return orjson.loads(s)


codecs.register(CODEC, OrjsonCodec())

"""One aggregate partition's view of a shared key-value table (a Faust Table in production, a dict in tests).

Tuple keys become `"<partition>|<json key>"` strings, so a table restored from its changelog still tells which
windows belong to which partition (`keys_here`).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

import orjson


class PartitionStore(MutableMapping[Any, Any]):
    """One partition's view of the shared Faust table: tuple keys become `"<partition>|<json key>"` strings,
    so a restored table tells which windows belong to which partition."""

    def __init__(self, table: Any, partition: int):
        self._table = table
        self._prefix = f"{partition}|"

    def _key(self, key: Any) -> str:
        return self._prefix + orjson.dumps(list(key)).decode()

    def __getitem__(self, key: Any) -> Any:
        return self._table[self._key(key)]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._table[self._key(key)] = value

    def __delitem__(self, key: Any) -> None:
        del self._table[self._key(key)]

    def __contains__(self, key: object) -> bool:
        return self._key(key) in self._table

    def get(self, key: Any, default: Any = None) -> Any:
        return self._table.get(self._key(key), default)

    def keys_here(self) -> list[tuple[Any, Any]]:
        return [
            tuple(orjson.loads(k[len(self._prefix) :])) for k in list(self._table.keys()) if k.startswith(self._prefix)
        ]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys_here())

    def __len__(self) -> int:
        return len(self.keys_here())

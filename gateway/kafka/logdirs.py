"""DescribeLogDirs (API key 35), which aiokafka does not ship: the on-disk size of each partition."""

from __future__ import annotations

from typing import TypeAlias

from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import Array, Boolean, Int16, Int32, Int64, Schema, String


class DescribeLogDirsResponse_v1(Response):
    API_KEY = 35
    API_VERSION = 1
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            Array(
                ("error_code", Int16),
                ("log_dir", String("utf-8")),
                (
                    "topics",
                    Array(
                        ("name", String("utf-8")),
                        (
                            "partitions",
                            Array(
                                ("partition_index", Int32),
                                ("partition_size", Int64),
                                ("offset_lag", Int64),
                                ("is_future_key", Boolean),
                            ),
                        ),
                    ),
                ),
            ),
        ),
    )


class DescribeLogDirsRequest_v1(RequestStruct):
    API_KEY = 35
    API_VERSION = 1
    RESPONSE_TYPE = DescribeLogDirsResponse_v1
    SCHEMA = Schema(("topics", Array(("topic", String("utf-8")), ("partitions", Array(Int32)))))


DescribeLogDirsRequestStruct: TypeAlias = DescribeLogDirsRequest_v1


class DescribeLogDirsRequest(Request[DescribeLogDirsRequestStruct]):
    API_KEY = 35

    def __init__(self, topic: str, partitions: list[int]):
        self._topics = [(topic, partitions)]

    def build(self, request_struct_class: type[DescribeLogDirsRequestStruct]) -> DescribeLogDirsRequestStruct:
        return request_struct_class(self._topics)

"""The lake (seed 000): Iceberg tables fed from tenants' raw streams by the lake sink, read back with DuckDB."""

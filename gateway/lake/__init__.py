"""The lake services behind the seed 000 API: the schema registry, datasets and their Iceberg tables, previews."""

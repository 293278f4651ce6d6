"""The results store: versioned Parquet records, the summaries built at load, the ingest."""

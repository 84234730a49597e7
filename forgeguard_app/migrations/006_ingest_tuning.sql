-- Webhook payloads average ~20 KB: storing them uncompressed (still out of line)
-- saves the pglz pass on every delivery, which showed up in bench/ingest.py.
ALTER TABLE deliveries ALTER COLUMN payload SET STORAGE EXTERNAL;

-- Nothing looks jobs up by kind and time; one index less to update per job.
DROP INDEX jobs_kind_created_idx;

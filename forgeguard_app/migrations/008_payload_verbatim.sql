-- Deliveries keep their payload as `json`: the body exactly as GitHub sent and
-- signed it (validated, not converted). Converting ~20 KB payloads to jsonb was
-- the largest cost of accepting a delivery in bench/ingest.py (about a third
-- of the throughput), and nothing queries inside stored payloads; the delivery
-- job parses them. Stored uncompressed, out of line.
ALTER TABLE deliveries ALTER COLUMN payload TYPE json USING payload::json;
ALTER TABLE deliveries ALTER COLUMN payload SET STORAGE EXTERNAL;

-- The status page counts deliveries by status with one scan; the index only
-- cost an update per delivery.
DROP INDEX deliveries_status_idx;

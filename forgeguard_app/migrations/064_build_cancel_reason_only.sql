-- A running build asked to stop is one that has a cancel reason: the flag beside it said the same thing.
UPDATE builds SET cancel_reason = 'cancelled by a person''s `/forge cancel`'
    WHERE cancel_requested AND cancel_reason IS NULL;
ALTER TABLE builds DROP COLUMN cancel_requested;

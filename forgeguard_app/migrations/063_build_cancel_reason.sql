-- Why a running build was asked to stop at its next step: a person's `/forge cancel`, or its issue or
-- pull request closed (builder/stops.py). NULL on rows asked before this column: the command's reason.
ALTER TABLE builds ADD COLUMN cancel_reason text;

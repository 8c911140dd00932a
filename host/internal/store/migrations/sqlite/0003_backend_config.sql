-- The backend block a deployment was applied with, sealed like its state,
-- so runtime operations started from the API reach the same plugin instance.
ALTER TABLE deployments ADD COLUMN backend_config BLOB;

-- A deployment destroyed and applied again under the same name is a new
-- incarnation of it. Revision numbers go on counting across incarnations;
-- each revision says which incarnation it belongs to and, once that
-- incarnation is destroyed, when and by whom. job_id ties a revision to
-- the job that recorded it, so a job that runs again records nothing twice.
ALTER TABLE deployments ADD COLUMN incarnation INTEGER NOT NULL DEFAULT 1;
ALTER TABLE revisions ADD COLUMN incarnation INTEGER NOT NULL DEFAULT 1;
ALTER TABLE revisions ADD COLUMN destroyed_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE revisions ADD COLUMN destroyed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE revisions ADD COLUMN job_id BIGINT NOT NULL DEFAULT 0;

-- Revisions of deployments destroyed before this migration: their
-- incarnation ended after its last revision; when exactly was not kept.
UPDATE revisions SET destroyed_at = (
    SELECT MAX(r.applied_at) FROM revisions r
    WHERE r.tenant = revisions.tenant AND r.environment = revisions.environment AND r.name = revisions.name)
WHERE NOT EXISTS (
    SELECT 1 FROM deployments d
    WHERE d.tenant = revisions.tenant AND d.environment = revisions.environment AND d.name = revisions.name);

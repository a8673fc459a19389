-- Previews are no longer stored: a preview's answers travel signed in its form. The previews
-- earlier versions stored as responses are removed, so no listing, export, count or workflow
-- sees them: the personal links they claimed are free again, and the workflow runs they queued
-- but that never ran are dropped with their jobs (runs that did run stay as history).
UPDATE personal_links SET response_id = NULL
    WHERE response_id IN (SELECT id FROM responses WHERE channel = 'preview');
DELETE FROM jobs
    WHERE status = 'queued'
      AND id IN (SELECT r.id FROM workflow_runs r
                 JOIN responses p ON p.id = r.response_id
                 WHERE p.channel = 'preview' AND r.status = 'queued');
DELETE FROM workflow_runs
    WHERE status = 'queued'
      AND response_id IN (SELECT id FROM responses WHERE channel = 'preview');
DELETE FROM responses WHERE channel = 'preview';

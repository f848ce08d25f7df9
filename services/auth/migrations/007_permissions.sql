-- Roles travel in tokens and session records (issue: a permission change takes effect per mode).
-- disabled_at: a disabled user cannot log in or refresh, and every login was revoked when it was set.
-- permissions_cutoff: the per-user cut-off (epoch ms, a whole second) the last role change wrote;
-- auth issues no access token before it, so a token carrying the new roles is never covered by it.
ALTER TABLE users ADD COLUMN disabled_at timestamptz;
ALTER TABLE users ADD COLUMN permissions_cutoff bigint;
ALTER TABLE users ADD CONSTRAINT users_roles_bounded CHECK (cardinality(roles) <= 16);

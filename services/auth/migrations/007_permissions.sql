-- Roles travel in tokens and session records, and a change reaches every mode within its bound.
-- disabled_at: a disabled user cannot log in or refresh, and every login was revoked when it was set.
-- permissions_cutoff: the per-user cut-off (epoch ms, a whole second) the last role change wrote;
-- auth issues no access token before it, so a token carrying the new roles is never covered by it.
-- roles_version: counts role changes; a session record carries the version its roles come from,
-- and Redis never replaces a record's roles with an older version's (a late write, a rebuild).
-- logins.access_issued_at: the latest `iat` (epoch s) issued for the login, by whichever auth
-- replica's clock: a role change's cut-off is set past it, so clock skew between replicas cannot
-- leave a token with the old roles outside the cut-off.
ALTER TABLE users ADD COLUMN disabled_at timestamptz;
ALTER TABLE users ADD COLUMN permissions_cutoff bigint;
ALTER TABLE users ADD COLUMN roles_version bigint NOT NULL DEFAULT 0;
ALTER TABLE users ADD CONSTRAINT users_roles_bounded CHECK (cardinality(roles) <= 16);
ALTER TABLE logins ADD COLUMN access_issued_at bigint;

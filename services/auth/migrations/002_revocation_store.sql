-- The revocation store (packages/revocation): entries name logins, not "lids"; user cut-offs are
-- epoch milliseconds; the rebuild deletes the sessions of revoked, unexpired logins; a refresh
-- retried within the grace window gets the same successor, sealed under the presented token.
ALTER TABLE revocations DROP CONSTRAINT revocations_kind_check;
UPDATE revocations SET kind = 'login' WHERE kind = 'lid';
UPDATE revocations SET cutoff = cutoff * 1000 WHERE kind = 'user';
ALTER TABLE revocations ADD CONSTRAINT revocations_kind_check CHECK (kind IN ('jti', 'login', 'user'));

CREATE INDEX logins_revoked_unexpired ON logins (expires_at) WHERE revoked_at IS NOT NULL;

ALTER TABLE refresh_tokens ADD COLUMN successor_sealed text;

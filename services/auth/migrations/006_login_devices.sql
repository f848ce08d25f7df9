-- Sessions and devices (GET /auth/sessions): what a user sees of each of their logins. public_id is
-- the id the listing shows and DELETE /auth/sessions/{id} takes: random, unrelated to the login id
-- (the tokens' `sid`), the session id or the refresh token, and accepted as a credential nowhere.
-- last_used_at is moved at most once a minute (refresh, session introspection, account routes);
-- user_agent is truncated and address is the client's address as the per-address login limits key
-- it (IPv4 as is, IPv6 by /64), both recorded at login. A login from before has no agent or address.
ALTER TABLE logins ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE logins ADD CONSTRAINT logins_public_id_key UNIQUE (public_id);
ALTER TABLE logins ADD COLUMN last_used_at timestamptz;
UPDATE logins SET last_used_at = created_at;
ALTER TABLE logins ALTER COLUMN last_used_at SET NOT NULL;
ALTER TABLE logins ALTER COLUMN last_used_at SET DEFAULT now();
ALTER TABLE logins ADD COLUMN user_agent text;
ALTER TABLE logins ADD COLUMN address text;

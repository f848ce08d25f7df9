-- Users, logins (one per successful login: the session + JWTs + refresh family it issued),
-- refresh tokens, signing keys and the revocation log, which is the source of truth that
-- Redis' fast copies are rebuilt from.
CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL,
  email_normalized text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE logins (
  id text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  session_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  revoke_reason text
);
CREATE INDEX logins_live_by_user ON logins (user_id) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
  token_hash text PRIMARY KEY,
  login_id text NOT NULL REFERENCES logins (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  spent_at timestamptz
);
CREATE INDEX refresh_tokens_by_login ON refresh_tokens (login_id);

CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  alg text NOT NULL CHECK (alg IN ('EdDSA', 'ES256', 'RS256')),
  public_jwk jsonb NOT NULL,
  private_pem text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  activates_at timestamptz NOT NULL
);

CREATE TABLE revocations (
  id bigserial PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('jti', 'lid', 'user')),
  value text NOT NULL,
  user_id uuid NOT NULL,
  cutoff bigint,
  reason text NOT NULL,
  revoked_at timestamptz NOT NULL DEFAULT now(),
  -- after this, every token the revocation could concern has expired
  expires_at timestamptz NOT NULL
);
CREATE INDEX revocations_live ON revocations (expires_at);

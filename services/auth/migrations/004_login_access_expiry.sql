-- The latest `exp` (as a time) of any access token a login has issued, written in the transaction
-- that issues it. A revocation's deny entries for the login live until then (plus the clock
-- tolerance on both sides), whatever ACCESS_TOKEN_TTL_S is when it revokes. NULL: the login
-- predates this column, and its entries fall back to what verifiers accept (JWT_MAX_AGE_S).
ALTER TABLE logins ADD COLUMN access_expires_at timestamptz;

-- The roles a user holds, as GET /auth/me answers them. Not yet in the tokens; a new user has none.
ALTER TABLE users ADD COLUMN roles text[] NOT NULL DEFAULT '{}';

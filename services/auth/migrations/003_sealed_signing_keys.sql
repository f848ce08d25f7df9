-- Private signing keys are stored sealed (envelope encryption under the key-encryption key). Auth
-- seals any plaintext key left from before at start and clears private_pem.
ALTER TABLE signing_keys ADD COLUMN private_sealed text;
ALTER TABLE signing_keys ALTER COLUMN private_pem DROP NOT NULL;

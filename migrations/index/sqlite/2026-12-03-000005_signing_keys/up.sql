-- Token signing keys, shared by every index replica (docs/token-flow.md, "Signing keys").
-- The private key is the PKCS#8 DER sealed with AES-256-GCM under the key-encryption key
-- (`keys.encryption_key`, or the local file under `token.key_dir`), a random 96-bit nonce
-- and the kid as additional data: a row cannot be moved to another kid, and it never holds
-- the key in clear.
CREATE TABLE signing_keys (
    -- RFC 7638 thumbprint of the public key, the JWT header's `kid`
    kid TEXT PRIMARY KEY NOT NULL,
    -- signing order: the newest key allowed to sign signs. UNIQUE, so two replicas
    -- creating the first key (or two rotations) at once cannot both win.
    generation BIGINT NOT NULL UNIQUE,
    algorithm TEXT NOT NULL,
    encrypted_private_key BLOB NOT NULL,
    nonce BLOB NOT NULL,
    -- first 8 bytes (hex) of SHA-256 of the key-encryption key that sealed the row
    kek_id TEXT NOT NULL,
    certificate_pem TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- published (JWKS) from creation, signs from this time on
    signs_from BIGINT NOT NULL,
    -- null while current; after this time it is neither published nor trusted
    retire_after BIGINT
);

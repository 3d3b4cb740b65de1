//! The `signing_keys` table: every token signing key of every replica, private keys sealed
//! (see `keys::kek`). Sealing, time rules and the in-memory key set are `keys`' business;
//! this module only reads and writes rows.

use super::schema::signing_keys::dsl as k;
use super::{Conn, DbError};
use diesel::prelude::*;

#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::signing_keys)]
pub struct SigningKeyRow {
    pub kid: String,
    pub generation: i64,
    pub algorithm: String,
    /// AES-256-GCM ciphertext and tag of the PKCS#8 DER private key (never clear text).
    pub encrypted_private_key: Vec<u8>,
    pub nonce: Vec<u8>,
    pub kek_id: String,
    pub certificate_pem: String,
    pub created_at: i64,
    pub signs_from: i64,
    pub retire_after: Option<i64>,
}

impl std::fmt::Debug for SigningKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRow")
            .field("kid", &self.kid)
            .field("generation", &self.generation)
            .field("signs_from", &self.signs_from)
            .field("retire_after", &self.retire_after)
            .finish_non_exhaustive()
    }
}

/// Every key, oldest generation first.
pub fn all(conn: &mut Conn) -> Result<Vec<SigningKeyRow>, DbError> {
    Ok(k::signing_keys
        .order(k::generation.asc())
        .select(SigningKeyRow::as_select())
        .load(conn)?)
}

/// Keys not retired at `at`, oldest generation first (what a replica loads).
pub fn live(conn: &mut Conn, at: i64) -> Result<Vec<SigningKeyRow>, DbError> {
    Ok(k::signing_keys
        .filter(k::retire_after.is_null().or(k::retire_after.gt(at)))
        .order(k::generation.asc())
        .select(SigningKeyRow::as_select())
        .load(conn)?)
}

/// The highest generation, if there is any key.
pub fn newest_generation(conn: &mut Conn) -> Result<Option<i64>, DbError> {
    Ok(k::signing_keys
        .select(diesel::dsl::max(k::generation))
        .first::<Option<i64>>(conn)?)
}

/// Insert one key. A taken `kid` or `generation` is a conflict ([`DbError::is_conflict`]):
/// another replica got there first.
pub fn insert(conn: &mut Conn, row: &SigningKeyRow) -> Result<(), DbError> {
    diesel::insert_into(k::signing_keys)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// In one transaction: insert `row` and set `retire_after` on every other key that has
/// none yet. Returns how many keys were marked. A conflict means a concurrent rotation won.
pub fn rotate(conn: &mut Conn, row: &SigningKeyRow, retire_after: i64) -> Result<usize, DbError> {
    conn.transaction(|c| {
        diesel::insert_into(k::signing_keys)
            .values(row)
            .execute(c)?;
        diesel::update(
            k::signing_keys
                .filter(k::retire_after.is_null())
                .filter(k::kid.ne(&row.kid)),
        )
        .set(k::retire_after.eq(retire_after))
        .execute(c)
    })
    .map_err(DbError::from)
}

/// Set or change one key's `retire_after` (tests move time this way).
pub fn set_retire_after(conn: &mut Conn, kid: &str, at: Option<i64>) -> Result<bool, DbError> {
    let n = diesel::update(k::signing_keys.find(kid))
        .set(k::retire_after.eq(at))
        .execute(conn)?;
    Ok(n > 0)
}

/// Change one key's `signs_from` (tests move time this way).
pub fn set_signs_from(conn: &mut Conn, kid: &str, at: i64) -> Result<bool, DbError> {
    let n = diesel::update(k::signing_keys.find(kid))
        .set(k::signs_from.eq(at))
        .execute(conn)?;
    Ok(n > 0)
}

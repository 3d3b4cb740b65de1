//! Signing keys at rest: private keys are sealed in the database (never in clear), the
//! key files of the pre-database layout are imported on first start so their tokens stay
//! valid, and the zero-configuration default keeps its key-encryption key in a 0600 file.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use pier_index::db::signing_keys as rows;
use pier_index::keys::{jwk_thumbprint, store};
use pier_index::Index;
use pier_shared::Claims;

fn claims() -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        iss: "pier-index".into(),
        sub: "alice".into(),
        aud: "pier-registry".into(),
        exp: now + 300,
        nbf: now,
        iat: now,
        jti: "jti-of-a-legacy-token".into(),
        access: vec![],
        rti: None,
    }
}

#[test]
fn pre_database_key_files_are_imported_and_sealed() {
    let tmp = tempfile::tempdir().unwrap();
    let c = common::config(tmp.path());
    std::fs::create_dir_all(&c.token.key_dir).unwrap();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let pem = key.serialize_pem();
    std::fs::write(c.token.key_dir.join(store::LEGACY_KEY_FILE), &pem).unwrap();
    let cert = pier_index::keys::self_signed(&key, "pier-index").unwrap();
    std::fs::write(c.token.key_dir.join(store::LEGACY_CERT_FILE), &cert).unwrap();
    let point = key.public_key_raw();
    let kid = jwk_thumbprint(
        &URL_SAFE_NO_PAD.encode(&point[1..33]),
        &URL_SAFE_NO_PAD.encode(&point[33..65]),
    );

    // A token the old index signed with the file's key, before the upgrade.
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(kid.clone());
    let encoding = jsonwebtoken::EncodingKey::from_ec_der(&key.serialize_der());
    let old_token = jsonwebtoken::encode(&header, &claims(), &encoding).unwrap();

    let index = Index::open(c.clone()).unwrap();
    assert_eq!(index.keys.signing_kid().as_deref(), Some(kid.as_str()));
    assert_eq!(
        index
            .keys
            .verify_loaded(&old_token, "pier-index", &["pier-registry"]),
        Some(claims_with(&old_token))
    );
    assert_eq!(index.keys.certificates_pem(), cert);

    // The row holds the private key sealed: not the DER, nor any 16 bytes of it.
    let all = index.db.run_sync(rows::all).unwrap();
    assert_eq!(all.len(), 1);
    let row = &all[0];
    assert_eq!(row.kid, kid);
    let der = key.serialize_der();
    assert_eq!(
        row.encrypted_private_key.len(),
        der.len() + 16,
        "ciphertext + tag"
    );
    assert_eq!(row.nonce.len(), 12);
    for w in der.windows(16) {
        assert!(
            !row.encrypted_private_key.windows(16).any(|c| c == w),
            "private key bytes stored in clear"
        );
    }
    let pem_body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(!row.certificate_pem.contains(&pem_body));
    assert!(!format!("{row:?}").contains("encrypted_private_key"));

    // Imported once: a second start reads the database, not the files.
    std::fs::remove_file(c.token.key_dir.join(store::LEGACY_KEY_FILE)).unwrap();
    let again = Index::open(c).unwrap();
    assert_eq!(again.keys.signing_kid().as_deref(), Some(kid.as_str()));
    assert_eq!(again.db.run_sync(rows::all).unwrap().len(), 1);
}

fn claims_with(token: &str) -> Claims {
    let (_, c) = common::jwt_parts(token);
    serde_json::from_value(c).unwrap()
}

#[test]
fn zero_configuration_keeps_a_0600_key_encryption_key_file() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let c = common::config(tmp.path());
    let first = Index::open(c.clone()).unwrap();
    let kid = first.keys.signing_kid().unwrap();
    let file = c.token.key_dir.join(pier_index::keys::kek::LOCAL_FILE);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let again = Index::open(c.clone()).unwrap();
    assert_eq!(again.keys.signing_kid(), Some(kid.clone()));

    // The file's content is a valid keys.encryption_key: how a single node becomes the
    // first of several replicas.
    let mut replica = common::config(&tmp.path().join("other"));
    replica.database.url = c.database.url.clone();
    replica.keys.encryption_key =
        pier_index::config::Secret::new(std::fs::read_to_string(&file).unwrap().trim());
    replica.validate().unwrap();
    let other = Index::open(replica).unwrap();
    assert_eq!(other.keys.signing_kid(), Some(kid));
}

#[test]
fn a_changed_row_is_refused_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let c = common::config(tmp.path());
    let kid = Index::open(c.clone()).unwrap().keys.signing_kid().unwrap();
    let db = pier_index::db::open(c.database.url.expose(), 2).unwrap();
    let mut row = db.run_sync(rows::all).unwrap().remove(0);
    db.run_sync(|conn| {
        use diesel::prelude::*;
        use pier_index::db::schema::signing_keys::dsl as k;
        row.encrypted_private_key[0] ^= 1;
        diesel::update(k::signing_keys.find(&kid))
            .set(k::encrypted_private_key.eq(&row.encrypted_private_key))
            .execute(conn)
            .map_err(pier_index::db::DbError::from)
    })
    .unwrap();
    let err = Index::open(c).err().unwrap();
    assert!(
        err.contains("cannot be decrypted") && err.contains("changed"),
        "{err}"
    );
}

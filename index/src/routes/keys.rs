//! Publishing the token verification keys: a JWK Set and a certificate bundle (PEM), each
//! with every published key (the one signing, the next one, the previous ones until they
//! retire), so a verifier knows a key before any token uses it.

use crate::keys::JWKS_MAX_AGE_SECONDS;
use crate::state::Index;
use actix_web::{web, HttpResponse};

fn cache_control() -> (&'static str, String) {
    (
        "Cache-Control",
        format!("public, max-age={JWKS_MAX_AGE_SECONDS}"),
    )
}

/// `GET /.well-known/jwks.json`: the published keys (kty EC, crv P-256, kid, x5c).
///
/// ```text
/// 200 {"keys":[{"kty":"EC","crv":"P-256","x":"…","y":"…","kid":"…","alg":"ES256","use":"sig","x5c":["MII…"]}, …]}
/// ```
pub async fn jwks(index: web::Data<Index>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(cache_control())
        .json(index.keys.jwks())
}

/// `GET /token/certificate.pem`: the self-signed certificates of the published keys, one
/// after the other, for distribution's `auth.token.rootcertbundle` (a bundle).
pub async fn certificate(index: web::Data<Index>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/x-pem-file")
        .insert_header(cache_control())
        .body(index.keys.certificates_pem())
}

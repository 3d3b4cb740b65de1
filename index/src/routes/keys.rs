//! Publishing the token verification key: a JWK Set and the certificate (PEM).

use crate::state::Index;
use actix_web::{web, HttpResponse};

/// `GET /.well-known/jwks.json`: the signing key (kty EC, crv P-256, kid, x5c).
///
/// ```text
/// 200 {"keys":[{"kty":"EC","crv":"P-256","x":"…","y":"…","kid":"…","alg":"ES256","use":"sig","x5c":["MII…"]}]}
/// ```
pub async fn jwks(index: web::Data<Index>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(index.keys.jwks())
}

/// `GET /token/certificate.pem`: the self-signed certificate of the signing key, for
/// distribution's `auth.token.rootcertbundle`.
pub async fn certificate(index: web::Data<Index>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/x-pem-file")
        .body(index.keys.certificate_pem().to_string())
}

//! Who is calling: extractors for the JSON API, so that a handler's signature says what it
//! requires. Basic credentials (checked through the credential cache) or a Bearer token
//! from `/token` (verified locally, then the user and session checked in the database);
//! and [`Registry`], the registry's own endpoints (`/introspect`, `/pier/v1/mirrors…`).

use crate::error::Error;
use crate::services::access_tokens::RTI_PREFIX;
use crate::services::introspection::{standing, Standing};
use crate::services::login_throttle::Client;
use crate::services::policy::Subject;
use crate::services::tokens;
use crate::state::Index;
use actix_web::dev::Payload;
use actix_web::http::header::{HeaderValue, AUTHORIZATION};
use actix_web::{web, FromRequest, HttpRequest};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::future::Future;
use std::pin::Pin;

/// What an `Authorization` header holds.
pub enum Credentials {
    Basic { user: String, password: String },
    Bearer(String),
}

/// Parse `Authorization`: `Ok(None)` if absent, `Err` if present but malformed.
pub fn credentials(req: &HttpRequest) -> Result<Option<Credentials>, Error> {
    match req.headers().get(AUTHORIZATION) {
        Some(value) => parse_credentials(value).map(Some),
        None => Ok(None),
    }
}

/// Parse one `Authorization` value: `Basic <base64 user:password>` or `Bearer <token>`.
pub fn parse_credentials(value: &HeaderValue) -> Result<Credentials, Error> {
    let value = value.to_str().map_err(|_| Error::Unauthenticated)?;
    let (scheme, rest) = value.split_once(' ').ok_or(Error::Unauthenticated)?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let raw = STANDARD.decode(rest).map_err(|_| Error::Unauthenticated)?;
        let text = String::from_utf8(raw).map_err(|_| Error::Unauthenticated)?;
        let (user, password) = text.split_once(':').ok_or(Error::Unauthenticated)?;
        Ok(Credentials::Basic {
            user: user.to_string(),
            password: password.to_string(),
        })
    } else if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        Ok(Credentials::Bearer(rest.to_string()))
    } else {
        Err(Error::Unauthenticated)
    }
}

/// The user a valid Bearer token from `/token` speaks for (anonymous tokens: none).
pub async fn bearer_subject(index: &Index, token: &str) -> Result<Subject, Error> {
    let claims = index
        .verify_token(token)
        .await
        .ok_or(Error::Unauthenticated)?;
    // A token from a personal access token is for the registry only, within its scope.
    if claims
        .rti
        .as_deref()
        .is_some_and(|r| r.starts_with(RTI_PREFIX))
    {
        return Err(Error::Unauthenticated);
    }
    match standing(index, &claims).await? {
        Standing::User(s) => Ok(s),
        _ => Err(Error::Unauthenticated),
    }
}

async fn subject(
    index: Index,
    client: Client,
    creds: Option<Credentials>,
) -> Result<Option<Subject>, Error> {
    match creds {
        None => Ok(None),
        Some(Credentials::Basic { user, password }) => Ok(Some(
            tokens::authenticate(&index, &client, &user, &password).await?,
        )),
        Some(Credentials::Bearer(token)) => Ok(Some(bearer_subject(&index, &token).await?)),
    }
}

fn index_of(req: &HttpRequest) -> Result<Index, Error> {
    req.app_data::<web::Data<Index>>()
        .map(|d| d.get_ref().clone())
        .ok_or_else(|| Error::Internal("no index state".into()))
}

/// An authenticated caller (401 with a Basic challenge otherwise).
pub struct Caller(pub Subject);

/// An optional caller: no `Authorization` header is anonymous; a bad one is still a 401.
pub struct MaybeCaller(pub Option<Subject>);

impl FromRequest for MaybeCaller {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = index_of(req).and_then(|i| Ok((i.client(req), i, credentials(req)?)));
        Box::pin(async move {
            let (client, index, creds) = parsed?;
            Ok(MaybeCaller(subject(index, client, creds).await?))
        })
    }
}

impl FromRequest for Caller {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let maybe = MaybeCaller::from_request(req, payload);
        Box::pin(async move {
            match maybe.await? {
                MaybeCaller(Some(s)) => Ok(Caller(s)),
                MaybeCaller(None) => Err(Error::Unauthenticated),
            }
        })
    }
}

/// A site administrator.
pub struct Admin(pub Subject);

impl FromRequest for Admin {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        Box::pin(async move {
            let Caller(s) = caller.await?;
            if !s.is_admin {
                return Err(Error::Forbidden("site administrators only".into()));
            }
            Ok(Admin(s))
        })
    }
}

/// The registry itself: Basic `registry:<registry.introspection_secret>`, the credentials
/// of `/introspect` and of `/pier/v1/mirrors…`. 404 when `registry.introspection_secret`
/// is empty (those endpoints are off), 401 otherwise. No throttle or bcrypt: the secret
/// is compared in constant time.
pub struct Registry;

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

fn check_registry(req: &HttpRequest) -> Result<Registry, Error> {
    let index = index_of(req)?;
    let secret = index.config.registry.introspection_secret.expose();
    if secret.is_empty() {
        return Err(Error::NotFound(
            "the registry's endpoints are disabled (no registry.introspection_secret)".into(),
        ));
    }
    match credentials(req)? {
        Some(Credentials::Basic { user, password })
            if user == "registry" && same(password.as_bytes(), secret.as_bytes()) =>
        {
            Ok(Registry)
        }
        _ => Err(Error::Unauthenticated),
    }
}

impl FromRequest for Registry {
    type Error = Error;
    type Future = std::future::Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(check_registry(req))
    }
}

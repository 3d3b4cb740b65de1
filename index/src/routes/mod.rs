//! HTTP only: extract, call one service, convert. Handlers never write SQL or decide a
//! permission. The router is exactly [`ROUTES`], which the OpenAPI document must cover
//! (a test checks both ways).

pub mod api;
pub mod auth;
pub mod body;
pub mod health;
pub mod introspect;
pub mod keys;
pub mod limit;
pub mod mirrors;
pub mod token;
pub mod v1;
pub mod v2;

use crate::error::problem;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

/// One route: its method (lower case, as in OpenAPI), its OpenAPI path, its registration.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    register: fn(&mut web::ServiceConfig),
}

macro_rules! route {
    ($method:ident, $path:literal, $actix:literal, $handler:path) => {
        Route {
            method: stringify!($method),
            path: $path,
            register: |c| {
                c.route($actix, web::$method().to($handler));
            },
        }
    };
    ($method:ident, $path:literal, $handler:path) => {
        route!($method, $path, $path, $handler)
    };
}

/// Every route the index serves.
pub const ROUTES: &[Route] = &[
    route!(get, "/token", token::get),
    route!(post, "/token", token::post),
    route!(get, "/token/certificate.pem", keys::certificate),
    route!(get, "/.well-known/jwks.json", keys::jwks),
    route!(post, "/introspect", introspect::introspect),
    route!(put, "/pier/v1/mirrors", mirrors::replace),
    route!(
        put,
        "/pier/v1/mirrors/repositories/{name}",
        "/pier/v1/mirrors/repositories/{name:.+}",
        mirrors::register_repository
    ),
    route!(get, "/v2/", v2::base),
    route!(get, "/healthz", health::healthz),
    route!(get, "/readyz", health::readyz),
    route!(get, "/api/openapi.json", api::openapi::document),
    route!(get, "/api/v1/user", api::users::me),
    route!(get, "/api/v1/users", api::users::list),
    route!(post, "/api/v1/users", api::users::create),
    route!(post, "/api/v1/users/{name}/disable", api::users::disable),
    route!(post, "/api/v1/users/{name}/enable", api::users::enable),
    route!(put, "/api/v1/users/{name}/password", api::users::password),
    route!(get, "/api/v1/orgs", api::orgs::list),
    route!(post, "/api/v1/orgs", api::orgs::create),
    route!(
        get,
        "/api/v1/namespaces/{namespace}/teams",
        api::teams::list
    ),
    route!(
        post,
        "/api/v1/namespaces/{namespace}/teams",
        api::teams::create
    ),
    route!(
        put,
        "/api/v1/namespaces/{namespace}/teams/{team}/members/{user}",
        api::teams::add_member
    ),
    route!(
        delete,
        "/api/v1/namespaces/{namespace}/teams/{team}/members/{user}",
        api::teams::remove_member
    ),
    route!(get, "/api/v1/repositories", api::repositories::list),
    route!(
        get,
        "/api/v1/repositories/{name}",
        "/api/v1/repositories/{name:.+}",
        api::repositories::get
    ),
    route!(
        patch,
        "/api/v1/repositories/{name}",
        "/api/v1/repositories/{name:.+}",
        api::repositories::update
    ),
    route!(
        delete,
        "/api/v1/repositories/{name}",
        "/api/v1/repositories/{name:.+}",
        api::repositories::delete
    ),
    route!(get, "/api/v1/refresh-tokens", api::sessions::list),
    route!(delete, "/api/v1/refresh-tokens/{id}", api::sessions::revoke),
    route!(get, "/api/v1/access-tokens", api::access_tokens::list),
    route!(post, "/api/v1/access-tokens", api::access_tokens::create),
    route!(
        delete,
        "/api/v1/access-tokens/{id}",
        api::access_tokens::revoke
    ),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    for r in ROUTES {
        (r.register)(cfg);
    }
    v1::configure(cfg);
    // The HTML UI: not the JSON API, so not in ROUTES nor openapi.json.
    crate::web::configure(cfg);
}

/// The slug of the problem answered for a path no route serves.
pub const NO_ROUTE: &str = "no-route";

/// Anything else: a problem, 404.
pub async fn not_found() -> HttpResponse {
    problem(
        StatusCode::NOT_FOUND,
        NO_ROUTE,
        "Not found",
        "no such endpoint",
    )
}

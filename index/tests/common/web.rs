//! The web UI's test helpers: form posts and page requests with a session cookie, the
//! login form, CSRF tokens read off a page.

use actix_web::test::TestRequest;

pub const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

/// `name=value` of the first `Set-Cookie` for `name`, and the whole header line.
pub fn set_cookie(r: &super::Reply, name: &str) -> (String, String) {
    let line = r
        .headers
        .get_all("set-cookie")
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", r.headers));
    let pair = line.split(';').next().unwrap().to_string();
    (pair, line)
}

/// The first `name="csrf" value="…"` of a page.
pub fn csrf_of(html: &str) -> String {
    let at = html.find(r#"name="csrf" value=""#).expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap().to_string()
}

pub fn post(uri: &str, cookie: &str, form: &[(&str, &str)]) -> TestRequest {
    TestRequest::post()
        .uri(uri)
        .insert_header(FORM)
        .insert_header(("Cookie", cookie.to_string()))
        .set_payload(serde_urlencoded::to_string(form).unwrap())
}

pub fn get(uri: &str, cookie: &str) -> TestRequest {
    TestRequest::get()
        .uri(uri)
        .insert_header(("Cookie", cookie.to_string()))
}

/// `login!(app, user, password)`: log in through the form; the session cookie pair and
/// the header line.
#[macro_export]
macro_rules! login {
    ($app:expr, $user:expr, $password:expr) => {{
        use $crate::common::web::{csrf_of, post, set_cookie};
        let r = call!($app, actix_web::test::TestRequest::get().uri("/ui/login"));
        assert_eq!(r.status, actix_web::http::StatusCode::OK);
        let (login_cookie, _) = set_cookie(&r, "pier_login");
        let csrf = csrf_of(&r.text());
        let form = [
            ("csrf", csrf.as_str()),
            ("username", $user),
            ("password", $password),
        ];
        let r = call!($app, post("/ui/login", &login_cookie, &form));
        assert_eq!(
            r.status,
            actix_web::http::StatusCode::SEE_OTHER,
            "{}",
            r.text()
        );
        set_cookie(&r, "pier_session")
    }};
}

/// `csrf!(app, cookie)`: the session's CSRF token, read off a page.
#[macro_export]
macro_rules! csrf {
    ($app:expr, $cookie:expr) => {{
        let r = call!($app, $crate::common::web::get("/ui/tokens", &$cookie));
        assert_eq!(r.status, actix_web::http::StatusCode::OK);
        $crate::common::web::csrf_of(&r.text())
    }};
}

//! The web UI's login over plain HTTP requests (no browser): the login form's CSRF cookie,
//! then the form post that opens a session.

/// `Set-Cookie` values of a response.
pub fn set_cookies(r: &ureq::Response) -> Vec<String> {
    r.all("set-cookie")
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// The value of cookie `name` among `Set-Cookie` values.
pub fn cookie_value(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies.iter().find_map(|c| {
        let first = c.split(';').next()?;
        let (k, v) = first.split_once('=')?;
        (k.trim() == name && !v.is_empty()).then(|| v.to_string())
    })
}

/// What a login showed: the form page's response headers and the login post's.
pub struct Login {
    pub form: ureq::Response,
    pub form_cookies: Vec<String>,
    pub post_status: u16,
    pub post_cookies: Vec<String>,
    /// The session cookie's value (the session token), if the login worked.
    pub session: Option<String>,
    /// The CSRF token of the login form.
    pub csrf: String,
}

/// Log in at `<base>/ui/login` as `user` through `agent` (which must not follow redirects).
pub fn login(agent: &ureq::Agent, base: &str, user: &str, password: &str) -> Login {
    let form = agent
        .get(&format!("{base}/ui/login"))
        .call()
        .expect("GET /ui/login");
    let form_cookies = set_cookies(&form);
    let csrf = cookie_value(&form_cookies, "pier_login").expect("pier_login cookie");
    let post = agent
        .post(&format!("{base}/ui/login"))
        .set("Cookie", &format!("pier_login={csrf}"))
        .send_form(&[
            ("csrf", csrf.as_str()),
            ("username", user),
            ("password", password),
            ("next", "/ui/"),
        ]);
    let post = match post {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("POST /ui/login: {e}"),
    };
    let post_cookies = set_cookies(&post);
    Login {
        form,
        form_cookies,
        post_status: post.status(),
        session: cookie_value(&post_cookies, "pier_session"),
        post_cookies,
        csrf,
    }
}

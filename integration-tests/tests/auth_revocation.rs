//! Revocation reaches the registry within the confirmation TTL although the JWT is valid.

use pier_integration_tests::basic_auth;
use pier_integration_tests::Pier;
use std::time::Duration;

const TTL: u32 = 1;

fn token(pier: &Pier, user: &str, password: &str, scope: &str) -> String {
    let resp = ureq::get(&pier.index.url("/token"))
        .query("service", "pier-registry")
        .query("scope", scope)
        .set("Authorization", &basic_auth(user, password))
        .call()
        .expect("token");
    let body: serde_json::Value = serde_json::from_str(&resp.into_string().unwrap()).unwrap();
    body["token"].as_str().unwrap().to_string()
}

fn status(pier: &Pier, path: &str, token: &str) -> u16 {
    match ureq::get(&pier.registry.url(path))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
    {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn disabling_a_user_revokes_their_tokens_within_the_ttl() {
    let tmp = tempfile::tempdir().unwrap();
    let pier = Pier::start(tmp.path(), TTL);
    pier.add_user("carol", "carol-pw");
    let t = token(&pier, "carol", "carol-pw", "repository:carol/app:pull,push");
    // The repository exists once carol may push to it; its tag list is empty.
    assert_eq!(status(&pier, "/v2/", &t), 200);
    let before = status(&pier, "/v2/carol/app/tags/list", &t);
    assert!(
        before == 200 || before == 404,
        "valid token refused: {before}"
    );

    pier.index_cli(&["user", "disable", "carol"], None);
    std::thread::sleep(Duration::from_millis(TTL as u64 * 1000 + 300));
    assert_eq!(
        status(&pier, "/v2/carol/app/tags/list", &t),
        401,
        "revoked token still accepted"
    );
    assert!(
        !pier.registry.log().contains(&t),
        "token in the registry log"
    );
}

#[test]
fn revoking_a_refresh_token_revokes_the_access_tokens_issued_from_it() {
    let tmp = tempfile::tempdir().unwrap();
    let pier = Pier::start(tmp.path(), TTL);
    pier.add_user("erin", "erin-pw");
    let basic = basic_auth("erin", "erin-pw");
    let login: serde_json::Value = serde_json::from_str(
        &ureq::get(&pier.index.url("/token"))
            .query("service", "pier-registry")
            .query("offline_token", "true")
            .query("client_id", "integration-test")
            .set("Authorization", &basic)
            .call()
            .unwrap()
            .into_string()
            .unwrap(),
    )
    .unwrap();
    let refresh = login["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_string();
    // Boxed error: ureq's is large (clippy::result_large_err).
    let grant = |refresh: &str| -> Result<ureq::Response, Box<ureq::Error>> {
        ureq::post(&pier.index.url("/token"))
            .send_form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("service", "pier-registry"),
                ("client_id", "integration-test"),
                ("scope", "repository:erin/app:pull,push"),
            ])
            .map_err(Box::new)
    };
    let body: serde_json::Value =
        serde_json::from_str(&grant(&refresh).unwrap().into_string().unwrap()).unwrap();
    let access = body["access_token"].as_str().unwrap().to_string();
    let ok = status(&pier, "/v2/erin/app/tags/list", &access);
    assert!(ok == 200 || ok == 404, "fresh token refused: {ok}");

    // Find the session and revoke it through the JSON API.
    let sessions: serde_json::Value = serde_json::from_str(
        &ureq::get(&pier.index.url("/api/v1/refresh-tokens"))
            .set("Authorization", &basic)
            .call()
            .unwrap()
            .into_string()
            .unwrap(),
    )
    .unwrap();
    let list = sessions
        .as_array()
        .or_else(|| sessions["items"].as_array())
        .expect("a list of refresh tokens");
    assert_eq!(list.len(), 1, "{sessions}");
    let id = list[0]["id"].to_string().trim_matches('"').to_string();
    let revoked = ureq::delete(&pier.index.url(&format!("/api/v1/refresh-tokens/{id}")))
        .set("Authorization", &basic)
        .call()
        .unwrap();
    assert!(revoked.status() < 300);

    std::thread::sleep(Duration::from_millis(TTL as u64 * 1000 + 300));
    assert_eq!(
        status(&pier, "/v2/erin/app/tags/list", &access),
        401,
        "token of a revoked session accepted"
    );
    match grant(&refresh).map_err(|e| *e) {
        Err(ureq::Error::Status(code, _)) => assert!(code == 400 || code == 401, "{code}"),
        other => panic!(
            "a revoked refresh token still grants: {:?}",
            other.map(|r| r.status())
        ),
    }
}

//! The web UI in headless Chromium (Debian's chromium + chromium-driver over WebDriver),
//! against the real pier-index and pier-registry, with skopeo pushing and pulling: log in,
//! find a pushed image, read its tags and size, create an access token and use it with
//! skopeo, delete a tag and the repository from the UI, read the audit log and the
//! token-flow page; a user without rights sees no delete button and gets 403 posting the
//! form anyway. Screenshots of the main pages are taken on the way
//! (`PIER_UPDATE_SCREENSHOTS=1` writes them to docs/screenshots/).

use fantoccini::{Client, Locator};
use pier_integration_tests::artifacts::{image_created, push_referrer};
use pier_integration_tests::browser::{
    click, click_confirmed, fill, navigate_by, page_has, shot, text, Driver,
};
use pier_integration_tests::{manifest_digest, require_tool, OciLayout, Pier, Platform};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const AMD64: Platform = Platform {
    os: "linux",
    architecture: "amd64",
};
const ARM64: Platform = Platform {
    os: "linux",
    architecture: "arm64",
};

/// Where screenshots go: docs/screenshots/ when asked to update them, else the temp dir.
fn shots_dir(tmp: &Path) -> PathBuf {
    if std::env::var("PIER_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots")
    } else {
        tmp.join("screenshots")
    }
}

/// The size as the UI prints it (decimal units, one decimal).
fn human(bytes: u64) -> String {
    let (mut v, mut u, units) = (bytes as f64, 0, ["B", "kB", "MB", "GB"]);
    while v >= 1000.0 && u < 3 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// Config + layer sizes of the image manifest `descriptor` in `layout`.
fn image_size(layout: &OciLayout, descriptor: &Value) -> u64 {
    let digest = descriptor["digest"].as_str().unwrap();
    let raw = std::fs::read(layout.dir.join("blobs/sha256").join(&digest[7..])).unwrap();
    let m: Value = serde_json::from_slice(&raw).unwrap();
    let layers: u64 = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["size"].as_u64().unwrap())
        .sum();
    layers + m["config"]["size"].as_u64().unwrap()
}

fn skopeo_push(layout: &OciLayout, tag: &str, dest: &str, creds: &str) -> std::process::Output {
    let src = format!("oci:{}:{tag}", layout.dir.display());
    pier_integration_tests::run(
        "skopeo",
        &[
            "copy",
            "--all",
            "--preserve-digests",
            "--dest-tls-verify=false",
            "--dest-creds",
            creds,
            &src,
            dest,
        ],
    )
}

async fn login(c: &Client, base: &str, user: &str, password: &str) {
    c.goto(&format!("{base}/ui/")).await.unwrap();
    fill(c, "input[name=username]", user).await;
    fill(c, "input[name=password]", password).await;
    navigate_by(c, "form.login button").await;
    assert_eq!(text(c, "header .who").await, user);
}

/// POST a form as the browser's session would (its CSRF token, its cookie): the status.
async fn forged_post(c: &Client, action: &str, fields: Value) -> u64 {
    let script = r#"
        const [action, fields, done] = arguments;
        const body = new URLSearchParams(fields);
        body.set("csrf", document.querySelector("input[name=csrf]").value);
        fetch(action, { method: "POST", body, redirect: "manual" }).then(r => done(r.status));
    "#;
    let v = c
        .execute_async(script, vec![json!(action), fields])
        .await
        .unwrap();
    v.as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browse_manage_and_watch_the_token_flow_in_chromium() {
    require_tool("skopeo");
    let tmp = tempfile::tempdir().unwrap();
    let shots = shots_dir(tmp.path());
    let pier = Pier::start_linked(&tmp.path().join("pier"), 0);
    pier.add_user("alice", "alice-password");
    pier.add_user("bob", "bob-password");
    let (base, reg) = (
        format!("http://{}", pier.index.addr),
        pier.registry.addr.clone(),
    );

    // An image and a two-platform index, pushed by alice with skopeo.
    let mut src = OciLayout::create(&tmp.path().join("src"));
    let v1 = src.image(1, &[3_000, 1_200_000], AMD64);
    let dated = image_created(&src, 5, "2026-01-02T03:04:05Z");
    let (a, b) = (
        src.image(2, &[50_000], AMD64),
        src.image(3, &[60_000], ARM64),
    );
    let multi = src.index(&[a.clone(), b.clone()]);
    let v2 = src.image(4, &[9_000], AMD64);
    src.tag("v1", &v1);
    src.tag("multi", &multi);
    src.tag("v2", &v2);
    src.tag("dated", &dated);
    for tag in ["v1", "multi", "dated"] {
        let out = skopeo_push(
            &src,
            tag,
            &format!("docker://{reg}/alice/app:{tag}"),
            "alice:alice-password",
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let sbom = push_referrer(&pier, "alice/app", &dated, ("alice", "alice-password"));

    let driver = Driver::start();
    let c = driver.session(1280, 1000).await;
    c.goto(&format!("{base}/ui/")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/ui/login"));
    shot(&c, &shots, "login").await;
    login(&c, &base, "alice", "alice-password").await;

    // Find it, read tags and sizes.
    fill(&c, "form.search input", "app").await;
    navigate_by(&c, "form.search button").await;
    assert_eq!(text(&c, "ul.repos a.repo").await, "alice/app");
    shot(&c, &shots, "repositories").await;
    navigate_by(&c, "ul.repos a.repo").await;
    assert_eq!(text(&c, "h1").await, "alice/app");
    assert_eq!(
        text(&c, "tr[data-tag=v1] td.size").await,
        human(image_size(&src, &v1))
    );
    let multi_size = image_size(&src, &a) + image_size(&src, &b);
    assert_eq!(
        text(&c, "tr[data-tag=multi] td.size").await,
        human(multi_size)
    );
    let platforms = text(&c, "tr[data-tag=multi] td[data-label=Platforms]").await;
    assert!(
        platforms.contains("linux/amd64") && platforms.contains("linux/arm64"),
        "{platforms}"
    );
    let digest = multi["digest"].as_str().unwrap();
    let shown = c
        .find(Locator::Css("tr[data-tag=multi] code.digest"))
        .await
        .unwrap();
    assert_eq!(shown.attr("title").await.unwrap().as_deref(), Some(digest));
    assert!(text(&c, "#pull")
        .await
        .ends_with(&format!("{reg}/alice/app")));
    let created = text(&c, "tr[data-tag=dated] td[data-label=Created]").await;
    assert_eq!(created, "2026-01-02T03:04:05Z");
    let referrers = "tr[data-tag=dated] td[data-label=Referrers] .badge";
    let referrer = c.find(Locator::Css(referrers)).await.unwrap();
    assert_eq!(referrer.text().await.unwrap(), "application/spdx+json");
    assert_eq!(referrer.attr("title").await.unwrap(), Some(sbom));
    shot(&c, &shots, "repository").await;

    // An access token, push-only-where-scoped, used with skopeo.
    c.goto(&format!("{base}/ui/tokens")).await.unwrap();
    fill(&c, "input[name=name]", "ci").await;
    fill(&c, "input[name=repositories]", "alice/app").await;
    click(&c, "input[name=push]").await;
    navigate_by(&c, "form.create button").await;
    let secret = text(&c, "#secret").await;
    assert!(secret.starts_with("pier_pat_"), "{secret}");
    shot(&c, &shots, "tokens").await;
    let creds = format!("alice:{secret}");
    let out = skopeo_push(&src, "v2", &format!("docker://{reg}/alice/app:v2"), &creds);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = skopeo_push(
        &src,
        "v2",
        &format!("docker://{reg}/alice/elsewhere:v2"),
        &creds,
    );
    assert!(!out.status.success(), "the token is scoped to alice/app");
    assert_eq!(
        manifest_digest(&format!("docker://{reg}/alice/app:v2"), Some(&creds)).as_deref(),
        v2["digest"].as_str()
    );

    // Delete tag v2 from the UI.
    c.goto(&format!("{base}/ui/r/alice/app")).await.unwrap();
    click_confirmed(&c, "tr[data-tag=v2] form button.danger").await;
    c.wait()
        .for_element(Locator::Css("tr[data-tag=v1]"))
        .await
        .unwrap();
    assert!(!page_has(&c, r#"data-tag="v2""#).await);
    assert_eq!(
        manifest_digest(
            &format!("docker://{reg}/alice/app:v2"),
            Some("alice:alice-password")
        ),
        None
    );

    // Make it public, so that bob can see it.
    navigate_by(&c, "form[action$=visibility] button").await;
    assert_eq!(text(&c, "section.summary .badge").await, "public");

    // Bob: no delete buttons, and a 403 when he posts the forms anyway.
    let bob = driver.session(1280, 1000).await;
    login(&bob, &base, "bob", "bob-password").await;
    bob.goto(&format!("{base}/ui/r/alice/app")).await.unwrap();
    assert_eq!(text(&bob, "h1").await, "alice/app");
    assert!(!page_has(&bob, "Delete tag").await && !page_has(&bob, "Delete repository").await);
    let tag = json!({"repository": "alice/app", "tag": "v1"});
    assert_eq!(forged_post(&bob, "/ui/actions/delete-tag", tag).await, 403);
    let repo = json!({"repository": "alice/app"});
    assert_eq!(
        forged_post(&bob, "/ui/actions/delete-repository", repo).await,
        403
    );
    assert!(manifest_digest(&format!("docker://{reg}/alice/app:v1"), None).is_some());
    bob.close().await.unwrap();

    // Audit log and token flows (admin sees everyone's).
    let admin = driver.session(1280, 1000).await;
    login(
        &admin,
        &base,
        "admin",
        pier_integration_tests::pier::ADMIN_PASSWORD,
    )
    .await;
    admin.goto(&format!("{base}/ui/audit")).await.unwrap();
    let audit = admin.source().await.unwrap();
    for action in [
        "web.login",
        "token.issue",
        "token.confirm",
        "access_token.create",
        "tag.delete",
        "repository.visibility",
    ] {
        assert!(
            audit.contains(&format!("<code>{action}</code>")),
            "{action} not in the audit log"
        );
    }
    shot(&admin, &shots, "audit").await;
    admin.goto(&format!("{base}/ui/flows")).await.unwrap();
    let flow = text(&admin, "section.flow").await;
    assert!(flow.contains("client") && flow.contains("index"), "{flow}");
    assert!(page_has(&admin, r#"data-action="token.confirm""#).await);
    shot(&admin, &shots, "flows").await;
    admin.close().await.unwrap();

    // Delete the repository from the UI: gone from the list, then from the registry.
    c.goto(&format!("{base}/ui/r/alice/app")).await.unwrap();
    click_confirmed(&c, "form[action$=delete-repository] button").await;
    c.wait()
        .for_element(Locator::Css("form.search"))
        .await
        .unwrap();
    assert!(!page_has(&c, "alice/app").await);
    let deadline = Instant::now() + Duration::from_secs(30);
    while manifest_digest(
        &format!("docker://{reg}/alice/app:v1"),
        Some("alice:alice-password"),
    )
    .is_some()
    {
        assert!(
            Instant::now() < deadline,
            "the registry still serves alice/app"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Phone width: the repository list of a fresh push still renders.
    let out = skopeo_push(
        &src,
        "v1",
        &format!("docker://{reg}/alice/tools:v1"),
        "alice:alice-password",
    );
    assert!(out.status.success());
    c.set_window_size(390, 844).await.unwrap();
    c.goto(&format!("{base}/ui/r/alice/tools")).await.unwrap();
    assert_eq!(
        text(&c, "tr[data-tag=v1] td.size").await,
        human(image_size(&src, &v1))
    );
    shot(&c, &shots, "phone").await;
    c.close().await.unwrap();
}

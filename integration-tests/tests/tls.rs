//! HTTPS with rustls: the registry serves TLS from a PEM certificate and key, as registry:2
//! does with REGISTRY_HTTP_TLS_CERTIFICATE / REGISTRY_HTTP_TLS_KEY.

use pier_integration_tests::{require_tool, run_ok, OciLayout, Platform, Registry};

#[test]
fn skopeo_over_https_with_a_trusted_certificate() {
    require_tool("openssl");
    require_tool("skopeo");
    let tmp = tempfile::tempdir().unwrap();
    let certs = tmp.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    let (cert, key) = (certs.join("ca.crt"), tmp.path().join("key.pem"));
    run_ok(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ],
    );
    let reg = Registry::start_with(
        &tmp.path().join("pier"),
        &[
            ("PIER_REGISTRY_HTTP_TLS_CERTIFICATE", cert.to_str().unwrap()),
            ("PIER_REGISTRY_HTTP_TLS_KEY", key.to_str().unwrap()),
        ],
    );
    let mut src = OciLayout::create(&tmp.path().join("src"));
    let image = src.image(
        7,
        &[10_000],
        Platform {
            os: "linux",
            architecture: "amd64",
        },
    );
    src.tag("v1", &image);
    let dest = format!("docker://{}/secure/app:v1", reg.addr);
    let cert_dir = certs.to_str().unwrap();
    // Verification on: skopeo must trust the server only through the given CA.
    run_ok(
        "skopeo",
        &[
            "copy",
            "--preserve-digests",
            "--dest-cert-dir",
            cert_dir,
            &format!("oci:{}:v1", src.dir.display()),
            &dest,
        ],
    );
    let out = run_ok(
        "skopeo",
        &["inspect", "--raw", "--cert-dir", cert_dir, &dest],
    );
    assert_eq!(
        pier_integration_tests::sha256(out.as_bytes()),
        image["digest"].as_str().unwrap()
    );
}

//! `pier walkthrough pull|push|delete [--v2]` against the real binaries: each workflow
//! runs, shows the registry ↔ index confirmations, and prints exactly the steps
//! docs/token-flow.md shows.

use pier_integration_tests::v1::start_with_users as pier_with_alice;
use pier_integration_tests::Pier;

/// The step lines of a walkthrough, with what changes from run to run replaced by
/// placeholders: `<index>`, `<registry>`, `<repo>`, `<id>` (64 hex), `<uuid>`.
fn normalized_steps(out: &str, pier: &Pier, repo: &str) -> Vec<String> {
    let hex64 = regex_lite_hex64();
    out.lines()
        .filter(|l| {
            let t = l.trim_start();
            t.split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|l| {
            let l = l
                .replace(&pier.index.addr, "<index>")
                .replace(&pier.registry.addr, "<registry>")
                .replace(repo, "<repo>");
            hex64(&l)
        })
        .collect()
}

/// Replace runs of 64 hex characters by `<id>`, and UUIDs by `<uuid>`.
fn regex_lite_hex64() -> impl Fn(&str) -> String {
    |s: &str| {
        let mut out = String::new();
        let chars: Vec<char> = s.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let hex_run = chars[i..]
                .iter()
                .take_while(|c| c.is_ascii_hexdigit() || **c == '-')
                .count();
            let run: String = chars[i..i + hex_run].iter().collect();
            let is_uuid = run.len() == 36 && run.matches('-').count() == 4;
            let is_id = run.len() >= 64 && !run.contains('-');
            if is_uuid {
                out.push_str("<uuid>");
                i += hex_run;
            } else if is_id {
                out.push_str("<id>");
                i += hex_run;
            } else {
                out.push(chars[i]);
                i += 1;
            }
        }
        out
    }
}

/// The step lists docs/token-flow.md shows, by workflow (`v1 push`, `v2 pull`, …).
fn documented_steps(workflow: &str) -> Vec<String> {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/token-flow.md"
    ))
    .expect("docs/token-flow.md");
    let marker = format!("<!-- walkthrough: {workflow} -->");
    // Missing: an empty list, so that the failure shows the block to write.
    let block = doc
        .split(&marker)
        .nth(1)
        .and_then(|after| after.split("```text\n").nth(1))
        .and_then(|b| b.split("```").next())
        .unwrap_or("");
    block.lines().map(str::to_string).collect()
}

fn walkthrough(pier: &Pier, args: &[&str]) -> String {
    let bin = pier_integration_tests::server::binary("pier");
    let out = std::process::Command::new(bin)
        .arg("walkthrough")
        .args(args)
        .args(["--index", &format!("http://{}", pier.index.addr)])
        .args(["--registry", &format!("http://{}", pier.registry.addr)])
        .args(["--user", "alice", "--password", "alice-password"])
        .args([
            "--admin-password",
            pier_integration_tests::pier::ADMIN_PASSWORD,
        ])
        .env("PIER_LOG", "warn")
        .output()
        .expect("run pier walkthrough");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "pier walkthrough {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `pier walkthrough` performs each workflow and prints every step, including the
/// registry → index confirmations; docs/token-flow.md shows exactly those steps.
#[test]
fn walkthrough_matches_the_documented_flows() {
    let tmp = tempfile::tempdir().unwrap();
    let pier = pier_with_alice(tmp.path());
    let mut mismatches = Vec::new();
    for (repo, mode) in [("alice/walk", None), ("alice/walk2", Some("--v2"))] {
        for workflow in ["push", "pull", "delete"] {
            let mut args = vec![workflow, "--repository", repo];
            args.extend(mode);
            let out = walkthrough(&pier, &args);
            let got = normalized_steps(&out, &pier, repo);
            let name = format!("{} {workflow}", if mode.is_some() { "v2" } else { "v1" });
            // The hidden registry → index step is shown, read back from the index.
            assert!(
                got.iter()
                    .any(|l| l.contains("registry → index") || l.contains("index → registry")),
                "{name}: no confirmation step\n{out}"
            );
            if got != documented_steps(&name) {
                mismatches.push(format!(
                    "<!-- walkthrough: {name} -->\n```text\n{}\n```\nfull output:\n{out}",
                    got.join("\n")
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "docs/token-flow.md differs from a real run:\n{}",
        mismatches.join("\n")
    );
}

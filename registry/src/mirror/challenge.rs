//! Reading an upstream's `WWW-Authenticate` challenge (RFC 7235 §4.1, RFC 6750 §3):
//! `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="…"` or
//! `Basic realm="…"`. Pure functions; the first challenge of a scheme Pier speaks wins.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// The token dance: GET `realm?service=…&scope=…` (with Basic credentials if any).
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    Basic,
}

/// The first Bearer or Basic challenge among `header`'s, if any.
pub fn parse(header: &str) -> Option<Challenge> {
    let mut rest = header.trim();
    while !rest.is_empty() {
        let (scheme, after) = split_token(rest);
        let (params, after) = auth_params(after);
        rest = after.trim_start_matches([',', ' ', '\t']);
        if scheme.eq_ignore_ascii_case("bearer") {
            let realm = params.get("realm")?.clone();
            return Some(Challenge::Bearer {
                realm,
                service: params.get("service").cloned(),
                scope: params.get("scope").cloned(),
            });
        }
        if scheme.eq_ignore_ascii_case("basic") {
            return Some(Challenge::Basic);
        }
        if scheme.is_empty() {
            break;
        }
    }
    None
}

/// A token (up to whitespace, `,` or `=`) and what follows it.
fn split_token(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let end = s
        .find(|c: char| c.is_ascii_whitespace() || c == ',' || c == '=')
        .unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// `name=value` pairs (values quoted or tokens) after a scheme, up to the next scheme.
fn auth_params(mut s: &str) -> (HashMap<String, String>, &str) {
    let mut params = HashMap::new();
    loop {
        let t = s.trim_start_matches([' ', '\t', ',']);
        let (name, after) = split_token(t);
        let after_ws = after.trim_start();
        if name.is_empty() || !after_ws.starts_with('=') {
            // Not a parameter: the next challenge's scheme (or the end).
            return (params, t);
        }
        let value_part = after_ws[1..].trim_start();
        let (value, after) = match value_part.strip_prefix('"') {
            Some(q) => quoted(q),
            None => {
                let end = value_part
                    .find(|c: char| c == ',' || c.is_ascii_whitespace())
                    .unwrap_or(value_part.len());
                (value_part[..end].to_string(), &value_part[end..])
            }
        };
        params.insert(name.to_ascii_lowercase(), value);
        s = after;
    }
}

/// The rest of a quoted string (after its opening quote), unescaped, and what follows it.
fn quoted(s: &str) -> (String, &str) {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (out, &s[i + 1..]),
            '\\' => {
                if let Some((_, e)) = chars.next() {
                    out.push(e);
                }
            }
            _ => out.push(c),
        }
    }
    (out, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub() {
        let h = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#;
        assert_eq!(
            parse(h),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/alpine:pull".into()),
            })
        );
    }

    #[test]
    fn basic_unquoted_escaped_and_several() {
        assert_eq!(
            parse(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse(r#"Newauth realm="x", Bearer realm=http://a/t, service="s\"q""#),
            Some(Challenge::Bearer {
                realm: "http://a/t".into(),
                service: Some("s\"q".into()),
                scope: None,
            })
        );
        assert_eq!(parse("Bearer service=\"x\""), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse("Negotiate"), None);
        assert_eq!(parse("Bearer"), None);
    }
}

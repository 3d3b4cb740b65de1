//! The legacy Docker v1 index/registry protocol's wire values, parsed once: image ids,
//! repository paths (with the `library/` default namespace) and the opaque token
//! `signature=…,repository="ns/repo",access=read|write|delete` (docs/legacy-v1.md).

use crate::RepoName;
use std::fmt;
use std::str::FromStr;

/// The namespace a one-component v1 repository name belongs to.
pub const LIBRARY: &str = "library";

/// A v1 image id: exactly 64 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageId(String);

impl ImageId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ImageId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let ok = s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if ok {
            Ok(ImageId(s.to_string()))
        } else {
            Err(format!(
                "invalid image id {:?}: 64 lowercase hex characters expected",
                s.chars().take(80).collect::<String>()
            ))
        }
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a v1 token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    Read,
    Write,
    Delete,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::Delete => "delete",
        }
    }
}

impl FromStr for Access {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "read" => Ok(Access::Read),
            "write" => Ok(Access::Write),
            "delete" => Ok(Access::Delete),
            other => Err(format!("unknown access {other:?}")),
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A v1 repository name, `namespace/name`: exactly two components. A one-component
/// name is in [`LIBRARY`].
pub fn repository(parts: &[&str]) -> Result<RepoName, String> {
    let full = match parts {
        [name] => format!("{LIBRARY}/{name}"),
        [ns, name] => format!("{ns}/{name}"),
        _ => return Err("a v1 repository name is namespace/name".into()),
    };
    full.parse::<RepoName>()
        .map_err(|e| format!("invalid repository name: {e}"))
}

/// A v1 token as the index hands it out and clients send it back
/// (`Authorization: Token <this>`).
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// The token id (`jti` in the audit log): the part of the signature before the `.`.
    pub id: String,
    /// The secret part of the signature.
    pub secret: String,
    pub repository: RepoName,
    pub access: Access,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Token({}, {}, {}, <redacted>)",
            self.id, self.repository, self.access
        )
    }
}

impl Token {
    /// `signature=<id>.<secret>,repository="ns/repo",access=read`
    pub fn header_value(&self) -> String {
        format!(
            r#"signature={}.{},repository="{}",access={}"#,
            self.id, self.secret, self.repository, self.access
        )
    }

    /// Parse the value of `Authorization: Token …` (the part after `Token `). Keys may
    /// come in any order, values quoted or not (as python docker-registry accepted).
    pub fn parse(value: &str) -> Result<Token, String> {
        let (mut sig, mut repo, mut access) = (None, None, None);
        for part in value.split(',') {
            let Some((k, v)) = part.trim().split_once('=') else {
                return Err("malformed token".into());
            };
            // One pair of quotes at most; no space or quote inside a value, so what is
            // parsed is what `header_value` writes back (found by fuzzing: a secret that
            // ended in ` "` came back as a different secret).
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .unwrap_or(v);
            if v.contains(|c: char| c == '"' || c.is_whitespace()) {
                return Err("malformed token".into());
            }
            match k.trim() {
                "signature" => sig = Some(v.to_string()),
                "repository" => repo = Some(v.to_string()),
                "access" => access = Some(v.parse::<Access>()?),
                _ => return Err("malformed token".into()),
            }
        }
        let sig = sig.ok_or("token without signature")?;
        let (id, secret) = sig.split_once('.').ok_or("malformed token signature")?;
        if id.is_empty() || secret.is_empty() {
            return Err("malformed token signature".into());
        }
        let repo = repo.ok_or("token without repository")?;
        let parts: Vec<&str> = repo.split('/').collect();
        Ok(Token {
            id: id.to_string(),
            secret: secret.to_string(),
            repository: repository(&parts)?,
            access: access.ok_or("token without access")?,
        })
    }

    /// The token of an `Authorization` header value (`Token …`, any case).
    pub fn from_authorization(header: &str) -> Option<Result<Token, String>> {
        let (scheme, rest) = header.trim().split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("token")
            .then(|| Token::parse(rest.trim()))
    }
}

/// A v1 tag name: `^[\w][\w.-]{0,127}$`.
pub fn valid_tag(tag: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = tag.chars();
    tag.len() <= 128
        && chars.next().is_some_and(word)
        && chars.all(|c| word(c) || c == '.' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_values_with_spaces_or_quotes_are_refused() {
        // fuzz/corpus/authorization/crash-d02aa5ba…: parsed, but not what header_value gives.
        let h = r#"Token signature=toryoabc.bearer ",repository="read,access=write"#;
        assert!(Token::from_authorization(h).unwrap().is_err());
        assert!(Token::parse(r#"signature="a.b c",repository=x/y,access=read"#).is_err());
        assert!(Token::parse(r#"signature=""a.b"",repository=x/y,access=read"#).is_err());
        let t = Token::parse(r#"signature="a.b", repository="x/y" ,access=read"#).unwrap();
        assert_eq!(Token::parse(&t.header_value()).unwrap(), t);
    }

    #[test]
    fn tokens_round_trip_and_reject_junk() {
        let t = Token {
            id: "abc".into(),
            secret: "s3cr3t".into(),
            repository: "foo/bar".parse().unwrap(),
            access: Access::Write,
        };
        let v = t.header_value();
        assert_eq!(
            v,
            r#"signature=abc.s3cr3t,repository="foo/bar",access=write"#
        );
        assert_eq!(Token::parse(&v).unwrap(), t);
        let auth = format!("Token {v}");
        assert_eq!(Token::from_authorization(&auth).unwrap().unwrap(), t);
        assert!(Token::from_authorization("Basic abc").is_none());
        for bad in [
            "",
            "signature=abc,repository=\"a/b\",access=read",
            "signature=a.b,repository=\"a/b/c\",access=read",
            "signature=a.b,repository=\"a/b\",access=admin",
            "signature=a.b,access=read",
        ] {
            assert!(Token::parse(bad).is_err(), "{bad}");
        }
        let lib = Token::parse("signature=a.b,repository=busybox,access=read").unwrap();
        assert_eq!(lib.repository.as_str(), "library/busybox");
    }

    #[test]
    fn image_ids_and_tags() {
        assert!(format!("{:064}", 7).parse::<ImageId>().is_ok());
        assert!("abc".parse::<ImageId>().is_err());
        assert!("A".repeat(64).parse::<ImageId>().is_err());
        assert!(valid_tag("latest") && valid_tag("1.0-rc_1"));
        assert!(!valid_tag("") && !valid_tag("-x") && !valid_tag(&"a".repeat(129)));
    }
}

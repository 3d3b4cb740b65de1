//! Configuration helpers: a TOML file, then mechanical environment overrides.
//!
//! `PIER_REGISTRY_STORAGE_ROOT=/data` sets `storage.root`: the variable name after the
//! prefix is matched against the keys of the fully-defaulted configuration tree (keys may
//! themselves contain `_`). A variable ending in `_FILE` sets the key without that suffix to
//! the contents of the named file, for secrets. Unknown variables are an error, so a typo is
//! caught at start-up instead of silently ignored.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::Path;
use toml::Value;

/// A secret setting (passwords, shared secrets): serialised as is, so configuration files
/// and `_FILE` variables work, but shown as `Secret(<redacted>)` by `Debug`, so it never
/// reaches a log through a `{:?}` of the configuration.
#[derive(Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself, for the one place that must use it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(<empty>)"
        } else {
            "Secret(<redacted>)"
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error("environment variable {0} does not name a configuration key")]
    UnknownEnv(String),
}

/// Load `T` from defaults, then an optional TOML file, then `PREFIX_…` environment variables.
pub fn load<T: Serialize + DeserializeOwned + Default>(
    file: Option<&Path>,
    env_prefix: &str,
) -> Result<T, ConfigError> {
    load_over(T::default(), file, env_prefix)
}

/// As [`load`], starting from `base` instead of `T::default()` (e.g. `pier up`'s data dir).
pub fn load_over<T: Serialize + DeserializeOwned>(
    base: T,
    file: Option<&Path>,
    env_prefix: &str,
) -> Result<T, ConfigError> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    load_with_env(base, file, env_prefix, &env)
}

/// As [`load_over`], with the environment given explicitly (for tests).
pub fn load_with_env<T: Serialize + DeserializeOwned>(
    base: T,
    file: Option<&Path>,
    env_prefix: &str,
    env: &[(String, String)],
) -> Result<T, ConfigError> {
    let mut tree = Value::try_from(base).map_err(|e| ConfigError::Invalid(e.to_string()))?;
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let from_file: Value =
            toml::from_str(&text).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        merge(&mut tree, from_file);
    }
    let prefix = format!("{env_prefix}_");
    for (key, raw) in env {
        let Some(rest) = key.strip_prefix(&prefix) else {
            continue;
        };
        if rest == "CONFIG" || rest == "LOG" {
            continue; // the config file path and log filter, read by the binary itself
        }
        let (path_key, value) = match rest.strip_suffix("_FILE") {
            Some(base) if find_path(&tree, base).is_some() => {
                let text =
                    std::fs::read_to_string(raw.as_str()).map_err(|source| ConfigError::Read {
                        path: raw.clone(),
                        source,
                    })?;
                (base, text.trim_end_matches(['\r', '\n']).to_string())
            }
            _ => (rest, raw.clone()),
        };
        let path =
            find_path(&tree, path_key).ok_or_else(|| ConfigError::UnknownEnv(key.clone()))?;
        set_path(&mut tree, &path, &value);
    }
    tree.try_into()
        .map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))
}

fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Table(b), Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// Find the key path whose upper-cased, `_`-joined form is `name`.
fn find_path(tree: &Value, name: &str) -> Option<Vec<String>> {
    let Value::Table(table) = tree else {
        return None;
    };
    for (key, child) in table {
        let upper = key.to_ascii_uppercase();
        if name == upper && !child.is_table() {
            return Some(vec![key.clone()]);
        }
        if let Some(rest) = name.strip_prefix(&upper).and_then(|r| r.strip_prefix('_')) {
            if let Some(mut tail) = find_path(child, rest) {
                tail.insert(0, key.clone());
                return Some(tail);
            }
        }
    }
    None
}

fn set_path(tree: &mut Value, path: &[String], raw: &str) {
    let mut node = tree;
    for key in &path[..path.len() - 1] {
        node = &mut node[key.as_str()];
    }
    let last = path[path.len() - 1].as_str();
    let typed = match &node[last] {
        Value::Integer(_) => raw.parse().map(Value::Integer).ok(),
        Value::Float(_) => raw.parse().map(Value::Float).ok(),
        Value::Boolean(_) => raw.parse().map(Value::Boolean).ok(),
        Value::Array(_) => Some(Value::Array(
            raw.split(',')
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.trim().to_string()))
                .collect(),
        )),
        _ => None,
    };
    // A value of the wrong type stays a string so that deserialising reports it clearly.
    node[last] = typed.unwrap_or_else(|| Value::String(raw.to_string()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(default)]
    struct Http {
        listen: String,
        max_body_size: i64,
    }
    #[derive(Debug, Serialize, Deserialize, Default, PartialEq)]
    #[serde(default)]
    struct Conf {
        http: Http,
        secret_key: String,
    }
    impl Default for Http {
        fn default() -> Self {
            Http {
                listen: "127.0.0.1:5000".into(),
                max_body_size: 1,
            }
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn env_overrides_keys_with_underscores() {
        let c: Conf = load_with_env(
            Conf::default(),
            None,
            "PIER_X",
            &env(&[
                ("PIER_X_HTTP_MAX_BODY_SIZE", "42"),
                ("PIER_X_HTTP_LISTEN", "0.0.0.0:1"),
                ("OTHER", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(c.http.max_body_size, 42);
        assert_eq!(c.http.listen, "0.0.0.0:1");
    }

    #[test]
    fn file_variant_reads_secret() {
        let dir = std::env::temp_dir().join(format!("pier-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("secret");
        std::fs::write(&f, "s3cret\n").unwrap();
        let c: Conf = load_with_env(
            Conf::default(),
            None,
            "PIER_X",
            &env(&[("PIER_X_SECRET_KEY_FILE", f.to_str().unwrap())]),
        )
        .unwrap();
        assert_eq!(c.secret_key, "s3cret");
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert_eq!(s.expose(), "hunter2");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"hunter2\"");
    }

    #[test]
    fn unknown_env_is_an_error() {
        let r: Result<Conf, _> = load_with_env(
            Conf::default(),
            None,
            "PIER_X",
            &env(&[("PIER_X_HTTP_LISTN", "x")]),
        );
        assert!(matches!(r, Err(ConfigError::UnknownEnv(_))));
    }

    #[test]
    fn bad_type_is_reported() {
        let r: Result<Conf, _> = load_with_env(
            Conf::default(),
            None,
            "PIER_X",
            &env(&[("PIER_X_HTTP_MAX_BODY_SIZE", "lots")]),
        );
        assert!(matches!(r, Err(ConfigError::Invalid(_))));
    }
}

//! Token scopes: `pier_shared::Scope` (one scope and the space-separated list of one
//! `scope` parameter), as the index's token endpoint parses them.
//!
//! Input: a `scope` parameter's value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pier_shared::{Action, Scope};

fn check(scope: &Scope) {
    assert!(!scope.resource_type.is_empty() && !scope.name.is_empty());
    assert!(scope
        .resource_type
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    for a in &scope.actions {
        assert!(!a.as_str().is_empty() && !a.as_str().contains(','));
        assert_eq!(&Action::from(a.as_str().to_string()), a);
    }
    // What the index writes into a token's `scope` parses back to the same scope.
    let text = scope.to_string();
    assert_eq!(&text.parse::<Scope>().expect("re-parse"), scope, "{text}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(list) = Scope::parse_list(s) {
        for scope in &list {
            check(scope);
            assert!(!scope.name.contains(' '));
        }
        let joined: Vec<String> = list.iter().map(Scope::to_string).collect();
        assert_eq!(Scope::parse_list(&joined.join(" ")).expect("re-parse list"), list);
    }
    if let Ok(scope) = s.parse::<Scope>() {
        check(&scope);
    }
});

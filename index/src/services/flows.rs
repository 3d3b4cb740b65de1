//! Token flows as the index recorded them: audit events whose detail starts with
//! `jti=<token id>`, grouped by that id into numbered steps between client, index and
//! registry. What each action means is one table, [`STEPS`]; an action it does not know
//! (a protocol added later) is still drawn, as a step from its actor to the index.

use crate::db::audit::{self, Event};
use crate::db::DbError;
use crate::error::Result;
use crate::state::Index;

/// A party of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Client,
    Index,
    Registry,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Client => "client",
            Party::Index => "index",
            Party::Registry => "registry",
        }
    }
}

/// action → (from, to, what happened).
#[rustfmt::skip]
pub const STEPS: &[(&str, Party, Party, &str)] = &[
    ("token.issue",      Party::Client,   Party::Index, "GET /token: the index grants a token"),
    ("web.token.issue",  Party::Client,   Party::Index, "web UI page: the index takes a token for the signed-in user"),
    ("token.confirm",    Party::Registry, Party::Index, "POST /introspect: the index confirms the token"),
    ("v1.token.issue",   Party::Client,   Party::Index, "v1: the index issues an X-Docker-Token"),
    ("v1.token.confirm", Party::Registry, Party::Index, "v1: the registry checks the token with the index"),
    ("v1.token.refuse",  Party::Registry, Party::Index, "v1: the index refuses the token (reason recorded)"),
    ("v1.images.done",   Party::Client,   Party::Index, "v1: PUT …/images: the push is done"),
    ("v1.delete",        Party::Client,   Party::Index, "v1: DELETE the repository"),
];

/// One numbered step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub number: usize,
    pub from: Party,
    pub to: Party,
    pub action: String,
    pub what: String,
    /// The rest of the detail after `jti=…` (scope, repository, access).
    pub detail: String,
    pub actor: String,
    pub time: i64,
    /// How many times in a row this same step was recorded (a registry confirming the
    /// same token for several requests): drawn once, with the count.
    pub times: usize,
}

/// The steps recorded for one token.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub jti: String,
    /// `v1` or `v2`.
    pub protocol: &'static str,
    pub steps: Vec<Step>,
}

/// `jti` and the rest of a detail that starts with `jti=`.
fn split_detail(detail: &str) -> Option<(&str, &str)> {
    let rest = detail.strip_prefix("jti=")?;
    Some(match rest.split_once(' ') {
        Some((jti, more)) => (jti, more.trim()),
        None => (rest, ""),
    })
}

fn step_of(event: &Event, rest: &str, number: usize) -> Step {
    let known = STEPS.iter().find(|(a, ..)| *a == event.action);
    let (from, to, what) = match known {
        Some((_, from, to, what)) => (*from, *to, (*what).to_string()),
        None if event.action.contains("confirm") => {
            (Party::Registry, Party::Index, event.action.clone())
        }
        None => (Party::Client, Party::Index, event.action.clone()),
    };
    Step {
        number,
        times: 1,
        from,
        to,
        action: event.action.clone(),
        what,
        detail: rest.to_string(),
        actor: event.actor.clone(),
        time: event.time,
    }
}

/// Group `events` (any order) into flows, newest flow first, at most `limit`.
pub fn group(mut events: Vec<Event>, limit: usize) -> Vec<Flow> {
    events.sort_by_key(|e| e.id);
    let mut flows: Vec<Flow> = Vec::new();
    for e in &events {
        let Some((jti, rest)) = e.detail.as_deref().and_then(split_detail) else {
            continue;
        };
        let pos = match flows.iter().position(|f| f.jti == jti) {
            Some(p) => p,
            None => {
                let protocol = if e.action.starts_with("v1.") {
                    "v1"
                } else {
                    "v2"
                };
                flows.push(Flow {
                    jti: jti.to_string(),
                    protocol,
                    steps: Vec::new(),
                });
                flows.len() - 1
            }
        };
        let flow = &mut flows[pos];
        match flow.steps.last_mut() {
            Some(last) if last.action == e.action && last.detail == rest => last.times += 1,
            _ => {
                let step = step_of(e, rest, flow.steps.len() + 1);
                flow.steps.push(step);
            }
        }
    }
    flows.reverse();
    flows.truncate(limit);
    flows
}

/// The last `limit` flows (from the last few hundred recorded steps), of `actor`'s
/// tokens only if given.
pub async fn recent(index: &Index, actor: Option<String>, limit: usize) -> Result<Vec<Flow>> {
    index.audit.flush(&index.db).await;
    let window = (limit as i64).saturating_mul(20).clamp(100, 2_000);
    let events = index
        .db
        .run(move |c| -> Result<_, DbError> {
            audit::recent_flow_steps(c, actor.as_deref(), window)
        })
        .await?;
    Ok(group(events, limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: i64, action: &str, detail: &str) -> Event {
        Event {
            id,
            time: 1_000 + id,
            actor: "alice".into(),
            action: action.into(),
            target: "pier-registry".into(),
            detail: Some(detail.into()),
        }
    }

    #[test]
    fn events_group_by_jti_into_numbered_steps_newest_flow_first() {
        let flows = group(
            vec![
                event(3, "token.confirm", "jti=A scope=repository:a/b:pull"),
                event(1, "token.issue", "jti=A scope=repository:a/b:pull"),
                event(2, "v1.token.issue", "jti=B repository=a/b access=read"),
                event(4, "v1.mystery", "jti=B repository=a/b"),
            ],
            10,
        );
        assert_eq!(flows.len(), 2);
        assert_eq!((flows[0].jti.as_str(), flows[0].protocol), ("B", "v1"));
        assert_eq!(flows[0].steps[1].what, "v1.mystery");
        assert_eq!(flows[0].steps[1].from, Party::Client);
        let a = &flows[1];
        assert_eq!(a.protocol, "v2");
        assert_eq!(a.steps.iter().map(|s| s.number).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(
            (a.steps[1].from, a.steps[1].to),
            (Party::Registry, Party::Index)
        );
        assert_eq!(a.steps[0].detail, "scope=repository:a/b:pull");
    }

    #[test]
    fn the_same_step_repeated_is_drawn_once_with_a_count() {
        let flows = group(
            vec![
                event(1, "token.issue", "jti=A scope=repository:a/b:pull"),
                event(2, "token.confirm", "jti=A scope=repository:a/b:pull"),
                event(3, "token.confirm", "jti=A scope=repository:a/b:pull"),
                event(4, "token.confirm", "jti=A scope=repository:a/b:pull"),
                event(5, "token.confirm", "jti=A scope="),
            ],
            10,
        );
        let steps = &flows[0].steps;
        let counts: Vec<_> = steps.iter().map(|s| (s.number, s.times)).collect();
        assert_eq!(counts, [(1, 1), (2, 3), (3, 1)]);
    }

    #[test]
    fn events_without_a_jti_are_not_flows_and_limit_holds() {
        let mut events = vec![event(1, "web.login", "alice")];
        events.extend((2..10).map(|i| event(i, "token.issue", &format!("jti=T{i}"))));
        let flows = group(events, 3);
        assert_eq!(flows.len(), 3);
        assert_eq!(flows[0].jti, "T9");
    }
}

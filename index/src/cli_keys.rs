//! `pier-index keys rotate|list`: what the command line says about signing keys.

use crate::cli::KeysCommand;
use crate::db::Db;
use crate::keys::store;
use crate::state::Index;

fn time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| t.to_string())
}

pub async fn run(index: &Index, command: KeysCommand) -> Result<(), String> {
    let at = crate::db::now();
    match command {
        KeysCommand::Rotate { publish_seconds } => {
            let keys = &index.config.keys;
            let delay = publish_seconds.unwrap_or(keys.publish_seconds);
            if delay < keys.min_publish_seconds() {
                return Err(format!(
                    "--publish-seconds must be at least {} (JWKS max-age + keys.reload_seconds)",
                    keys.min_publish_seconds()
                ));
            }
            let r = store::rotate(&index.keys, &index.config, delay, at).await?;
            let detail = format!(
                "signs_from={} previous_retire_after={}",
                r.signs_from, r.previous_retire_after
            );
            index
                .audit
                .record(&index.db, "cli", "keys.rotate", &r.kid, Some(detail));
            println!("new signing key {} (published now)", r.kid);
            println!("signs from      {}", time(r.signs_from));
            println!(
                "{} previous key(s) retire after {}",
                r.previous_keys,
                time(r.previous_retire_after)
            );
        }
        KeysCommand::List { json } => list(&index.db, json).await?,
    }
    Ok(())
}

/// `keys list`: every key's kid, state, times and the id of the KEK that sealed it.
pub async fn list(db: &Db, json: bool) -> Result<(), String> {
    let keys = store::list(db, crate::db::now()).await?;
    if json {
        let text = serde_json::to_string_pretty(&keys).map_err(|e| e.to_string())?;
        println!("{text}");
        return Ok(());
    }
    println!("KID\tSTATE\tCREATED\tSIGNS FROM\tRETIRE AFTER\tKEK");
    for k in keys {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            k.kid,
            k.state,
            time(k.created_at),
            time(k.signs_from),
            k.retire_after.map(time).unwrap_or_else(|| "-".into()),
            k.kek_id
        );
    }
    Ok(())
}

//! Raw SQL for both backends: the text is written once with `?` placeholders (SQLite's),
//! and becomes `$1, $2, …` on PostgreSQL. Only for statements diesel's query builder
//! cannot express; the text must be plain SQL both backends accept, with no `?` other than
//! the placeholders.

use super::Conn;
use diesel::query_builder::SqlQuery;

/// `diesel::sql_query(text)` with the placeholders the connection's backend expects.
pub fn sql(conn: &Conn, text: &str) -> SqlQuery {
    match conn {
        Conn::Sqlite(_) => diesel::sql_query(text),
        Conn::Pg(_) => diesel::sql_query(numbered(text)),
    }
}

fn numbered(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut n = 0;
    for ch in text.chars() {
        if ch == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(
            super::numbered("SELECT ? WHERE a = ? AND b = ?"),
            "SELECT $1 WHERE a = $2 AND b = $3"
        );
        assert_eq!(super::numbered("SELECT 1"), "SELECT 1");
    }
}

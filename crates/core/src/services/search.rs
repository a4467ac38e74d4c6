//! Full-text search over visible articles with each database's own engine:
//! SQLite FTS5 (`article_fts`, kept in step by triggers) and PostgreSQL
//! `tsvector` (`articles.search_vector`, GIN-indexed). See migration 8.
//!
//! User input never reaches either engine's query syntax: it is parsed here
//! into plain words, `word*` prefixes (two letters or more) and `"quoted phrases"`, stripped of
//! everything but letters and digits, and rebuilt as a query each engine
//! reads literally. Unbalanced quotes, operators and 10 KB strings are all
//! just text.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait, QueryFilter,
    Statement,
    sea_query::ExprTrait,
    sea_query::{Alias, Expr, JoinType, Order, PostgresQueryBuilder, Query, SqliteQueryBuilder},
};

use crate::{
    domain::pagination::Window,
    entities::article,
    error::AppError,
    services::{
        articles::{ArticleView, MAX_QUERY_CHARS, hidden_rowids, hydrate, visible_to_public},
        now,
    },
    state::AppState,
};

/// Most terms (words, prefixes or phrases) one query keeps.
const MAX_TERMS: usize = 16;
/// Most words in one phrase.
const MAX_PHRASE_WORDS: usize = 16;

/// Marks the search engines put around a hit, replaced by `<mark>` after the
/// snippet is HTML-escaped (Unicode private-use characters).
const HIT_START: char = '\u{E000}';
const HIT_END: char = '\u{E001}';
/// Characters of a body PostgreSQL's `ts_headline` reads per hit (it parses all
/// it is given, for up to a page of hits).
const SNIPPET_SOURCE_CHARS: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Word { text: String, prefix: bool },
    Phrase(Vec<String>),
}

/// A parsed, engine-neutral search query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    terms: Vec<Term>,
}

impl SearchQuery {
    /// Parse what a reader typed. `Ok(None)` when nothing searchable is left
    /// (only punctuation, say); an over-long query is a 422 on `field`.
    pub fn parse(input: &str, field: &str) -> Result<Option<SearchQuery>, AppError> {
        if input.chars().count() > MAX_QUERY_CHARS {
            return Err(AppError::validation(
                field,
                format!("must be at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        let mut terms = Vec::new();
        let mut rest = input;
        while !rest.is_empty() && terms.len() < MAX_TERMS {
            if let Some(after) = rest.strip_prefix('"') {
                // A phrase runs to the closing quote, or to the end when unbalanced.
                let (inside, next) = after.split_once('"').unwrap_or((after, ""));
                let words: Vec<String> = words(inside).take(MAX_PHRASE_WORDS).collect();
                match words.len() {
                    0 => {}
                    1 => terms.push(Term::Word {
                        text: words.into_iter().next().unwrap_or_default(),
                        prefix: false,
                    }),
                    _ => terms.push(Term::Phrase(words)),
                }
                rest = next;
                continue;
            }
            let end = rest
                .find(['"', ' ', '\t', '\n', '\r'])
                .unwrap_or(rest.len());
            let (chunk, next) = rest.split_at(end);
            let prefix = chunk.ends_with('*');
            let mut chunk_words: Vec<String> = words(chunk).collect();
            if let Some(last) = chunk_words.pop() {
                for text in chunk_words {
                    terms.push(Term::Word {
                        text,
                        prefix: false,
                    });
                }
                // A one-letter prefix would match a good part of the
                // vocabulary (the prefix indexes start at two): a word.
                let prefix = prefix && last.chars().count() >= 2;
                terms.push(Term::Word { text: last, prefix });
            }
            rest = next.trim_start_matches([' ', '\t', '\n', '\r']);
        }
        terms.truncate(MAX_TERMS);
        Ok((!terms.is_empty()).then_some(SearchQuery { terms }))
    }

    /// An FTS5 MATCH expression: every term a quoted string (implicit AND),
    /// so that FTS5 numbers its phrases as the terms are numbered.
    fn fts5(&self) -> String {
        self.terms
            .iter()
            .map(Term::fts5)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A `to_tsquery` expression: quoted lexemes joined with `&`, phrases with `<->`.
    fn tsquery(&self) -> String {
        self.terms
            .iter()
            .map(|t| match t {
                Term::Word { text, prefix } => {
                    format!("'{text}'{}", if *prefix { ":*" } else { "" })
                }
                Term::Phrase(words) => format!(
                    "({})",
                    words
                        .iter()
                        .map(|w| format!("'{w}'"))
                        .collect::<Vec<_>>()
                        .join(" <-> ")
                ),
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }
}

impl Term {
    /// This term alone as an FTS5 MATCH expression: one phrase.
    fn fts5(&self) -> String {
        match self {
            Term::Word { text, prefix } => {
                format!("\"{text}\"{}", if *prefix { "*" } else { "" })
            }
            Term::Phrase(words) => format!("\"{}\"", words.join(" ")),
        }
    }
}

/// Runs of letters and digits, lower-cased.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(64).collect::<String>().to_lowercase())
}

/// A condition on `articles` rows: they match `query`.
pub fn matches(backend: DatabaseBackend, query: &SearchQuery) -> Expr {
    match backend {
        DatabaseBackend::Postgres => Expr::cust_with_values(
            "\"articles\".\"search_vector\" @@ to_tsquery('broadsheet_search', $1)",
            [query.tsquery()],
        ),
        _ => Expr::cust_with_values(
            "\"articles\".rowid IN (SELECT rowid FROM article_fts WHERE article_fts MATCH ?)",
            [query.fts5()],
        ),
    }
}

/// One search result.
#[derive(Debug, Clone)]
pub struct Hit {
    pub article: ArticleView,
    /// Plain text around the matches, HTML-escaped, matches in `<mark>`.
    pub snippet: String,
    /// Relevance, higher is better (comparable within one result list only).
    pub rank: f64,
}

/// How many of the newest matches are ranked by relevance. A word found in
/// most of the archive would otherwise have every match scored on every
/// query, a cost that grows with the archive; older matches follow the
/// ranked ones, newest first.
pub const RANKED_MATCHES: u64 = 1000;

/// Matches are counted one by one up to this many, the matches that are
/// ranked (or to the end of the page asked for, when that is further); past
/// it the total is a lower bound, as GitHub's and Elasticsearch's searches
/// report. Counting every match of a word found in most of a large archive
/// took longer than the rest of the search.
pub const EXACT_TOTAL_UP_TO: u64 = RANKED_MATCHES;

/// How many articles match a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    /// The number of matches, or when not `exact`, a number there are more
    /// than enough matches for: always above the end of the page asked for,
    /// so that a next page is offered whenever there is one.
    pub count: u64,
    /// Whether `count` is every match.
    pub exact: bool,
}

impl Total {
    /// From a count of matches stopped after `bound + 1`.
    fn counted(counted: u64, bound: u64) -> Total {
        Total {
            count: counted,
            exact: counted <= bound,
        }
    }

    const NONE: Total = Total {
        count: 0,
        exact: true,
    };
}

/// Count the rows `matching` selects, stopping past [`EXACT_TOTAL_UP_TO`]
/// or the end of `slice`, whichever is further.
async fn count_matches(
    db: &sea_orm::DatabaseConnection,
    mut matching: sea_orm::sea_query::SelectStatement,
    slice: Window,
) -> Result<Total, AppError> {
    let bound = Ord::max(slice.offset.saturating_add(slice.limit), EXACT_TOTAL_UP_TO);
    matching.limit(bound + 1);
    let count = Query::select()
        .expr_as(Expr::cust("count(*)"), Alias::new("n"))
        .from_subquery(matching, Alias::new("matching"))
        .to_owned();
    let backend = db.get_database_backend();
    let (sql, values) = match backend {
        DatabaseBackend::Postgres => count.build(PostgresQueryBuilder),
        _ => count.build(SqliteQueryBuilder),
    };
    let counted = match db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
    {
        Some(row) => u64::try_from(row.try_get::<i64>("", "n")?).unwrap_or(0),
        None => 0,
    };
    Ok(Total::counted(counted, bound))
}

/// How many of the newest articles the share of articles holding each term is
/// estimated from, to weigh the terms of a query against each other.
const SHARE_SAMPLE: u64 = 1000;

/// Visible articles matching `input`, most relevant first among the newest
/// [`RANKED_MATCHES`] matches (then newest first), with snippets; and how
/// many match in all.
pub async fn search(
    state: &AppState,
    input: &str,
    field: &str,
    slice: Window,
) -> Result<(Vec<Hit>, Total), AppError> {
    let Some(query) = SearchQuery::parse(input, field)? else {
        return Ok((Vec::new(), Total::NONE));
    };
    let at = now();
    // (id, snippet as the engine marked it, rank), in result order.
    let (found, total) = match state.db.get_database_backend() {
        DatabaseBackend::Postgres => postgres_page(&state.db, &query, at, slice).await?,
        _ => sqlite_page(&state.db, &query, at, slice).await?,
    };
    if found.is_empty() {
        return Ok((Vec::new(), total));
    }
    let ids: Vec<String> = found.iter().map(|(id, _, _)| id.clone()).collect();
    let models = article::Entity::find()
        .filter(article::Column::Id.is_in(ids))
        .all(&state.db)
        .await?;
    let mut views: std::collections::HashMap<String, ArticleView> = hydrate(state, models)
        .await?
        .into_iter()
        .map(|v| (v.article.id.clone(), v))
        .collect();
    let hits = found
        .into_iter()
        .filter_map(|(id, snippet, rank)| {
            views.remove(&id).map(|article| Hit {
                article,
                snippet: highlight(&snippet),
                rank,
            })
        })
        .collect();
    Ok((hits, total))
}

/// One page of matches as (id, raw snippet, rank), and the total.
type Page = (Vec<(String, String, f64)>, Total);

/// SQLite: everything through the FTS index, newest first. No step reads
/// more than the newest [`RANKED_MATCHES`] matches, or the matches up to the
/// end of the page when further: not the count (bounded), not the ranking
/// (term weights estimated from a sample, `fts5.rs`). Visibility is checked
/// against the few hidden articles, never against the whole visible archive.
async fn sqlite_page(
    db: &sea_orm::DatabaseConnection,
    query: &SearchQuery,
    at: chrono::DateTime<chrono::Utc>,
    slice: Window,
) -> Result<Page, AppError> {
    let backend = DatabaseBackend::Sqlite;
    let fts = query.fts5();
    // The matches the public may see, as a query on `article_fts`.
    let visible_matches = |select: &mut sea_orm::sea_query::SelectStatement| {
        select
            .from(Alias::new("article_fts"))
            .and_where(Expr::cust_with_values("article_fts MATCH ?", [fts.clone()]))
            // `+` keeps SQLite from handing the list to FTS5 as a rowid
            // constraint (which re-runs MATCH once per rowid).
            .and_where(Expr::cust("+article_fts.rowid").not_in_subquery(hidden_rowids(at)));
    };
    let mut matching = Query::select();
    matching.expr(Expr::cust("1"));
    visible_matches(&mut matching);
    let total = count_matches(db, matching, slice).await?;
    if slice.offset >= total.count || slice.limit == 0 {
        return Ok((Vec::new(), total));
    }

    // Phase 1: one page of rowids. The newest `RANKED_MATCHES` are ordered
    // by relevance; any older ones follow, newest first.
    let mut ranked: Vec<(i64, f64)> = Vec::new();
    if slice.offset < RANKED_MATCHES {
        // BM25 (title, standfirst, excerpt, body weighed 10, 4, 4, 1) with
        // each term's document frequency estimated, not counted (fts5.rs).
        let shares = term_shares(db, query).await?;
        let mut candidates = Query::select();
        candidates
            .expr_as(Expr::cust("article_fts.rowid"), Alias::new("rid"))
            .expr_as(
                Expr::cust_with_values(
                    format!(
                        "{}(article_fts, 10.0, 4.0, 4.0, 1.0{})",
                        crate::fts5::RANK_FUNCTION,
                        ", ?".repeat(shares.len())
                    ),
                    shares,
                ),
                Alias::new("rank"),
            )
            .order_by_expr(Expr::cust("article_fts.rowid"), Order::Desc)
            .limit(RANKED_MATCHES);
        visible_matches(&mut candidates);
        let page = Query::select()
            .column(Alias::new("rid"))
            .column(Alias::new("rank"))
            .from_subquery(candidates, Alias::new("candidates"))
            .order_by(Alias::new("rank"), Order::Desc)
            .order_by(Alias::new("rid"), Order::Desc)
            .limit(slice.limit)
            .offset(slice.offset)
            .to_owned();
        let (sql, values) = page.build(SqliteQueryBuilder);
        for row in db
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?
        {
            ranked.push((row.try_get("", "rid")?, row.try_get("", "rank")?));
        }
    }
    let wanted = usize::try_from(slice.limit).unwrap_or(usize::MAX);
    if ranked.len() < wanted && total.count > RANKED_MATCHES {
        let mut older = Query::select();
        older
            .expr_as(Expr::cust("article_fts.rowid"), Alias::new("rid"))
            .order_by_expr(Expr::cust("article_fts.rowid"), Order::Desc)
            .limit((wanted - ranked.len()) as u64)
            .offset(Ord::max(slice.offset, RANKED_MATCHES));
        visible_matches(&mut older);
        let (sql, values) = older.build(SqliteQueryBuilder);
        for row in db
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?
        {
            ranked.push((row.try_get("", "rid")?, 0.0));
        }
    }
    if ranked.is_empty() {
        return Ok((Vec::new(), total));
    }

    // Phase 2: ids and snippets for this page only (snippets re-read the text).
    let select = Query::select()
        .expr_as(Expr::cust("\"articles\".rowid"), Alias::new("rid"))
        .expr_as(
            Expr::col((article::Entity, article::Column::Id)),
            Alias::new("id"),
        )
        .expr_as(
            Expr::cust(format!(
                "snippet(article_fts, -1, '{HIT_START}', '{HIT_END}', ' … ', 24)"
            )),
            Alias::new("snippet"),
        )
        .from(article::Entity)
        .join(
            JoinType::InnerJoin,
            Alias::new("article_fts"),
            Expr::cust("article_fts.rowid = \"articles\".rowid"),
        )
        .and_where(
            Expr::cust("\"articles\".rowid")
                .is_in(ranked.iter().map(|(rid, _)| *rid).collect::<Vec<_>>()),
        )
        .and_where(Expr::cust_with_values("article_fts MATCH ?", [fts.clone()]))
        .to_owned();
    let (sql, values) = select.build(SqliteQueryBuilder);
    let mut of_rowid: std::collections::HashMap<i64, (String, String)> = Default::default();
    for row in db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
    {
        of_rowid.insert(
            row.try_get("", "rid")?,
            (row.try_get("", "id")?, row.try_get("", "snippet")?),
        );
    }
    let found = ranked
        .into_iter()
        .filter_map(|(rid, rank)| of_rowid.remove(&rid).map(|(id, s)| (id, s, rank)))
        .collect();
    Ok((found, total))
}

/// For each term of `query`, the share of articles that hold it, as found
/// in the newest [`SHARE_SAMPLE`] articles (hidden ones too: this weighs
/// words, it shows nothing). Exact in an archive no larger than the sample;
/// in a larger one, the same bounded work at any size.
async fn term_shares(
    db: &sea_orm::DatabaseConnection,
    query: &SearchQuery,
) -> Result<Vec<f64>, AppError> {
    let mut sql = format!(
        "WITH sample AS (SELECT coalesce(min(rowid), 0) AS lo, count(*) AS n \
         FROM (SELECT id AS rowid FROM article_fts_docsize ORDER BY id DESC LIMIT {SHARE_SAMPLE})) \
         SELECT sample.n AS n"
    );
    for i in 0..query.terms.len() {
        sql.push_str(&format!(
            ", (SELECT count(*) FROM article_fts WHERE article_fts MATCH ? \
             AND article_fts.rowid >= sample.lo) AS f{i}"
        ));
    }
    sql.push_str(" FROM sample");
    let values: Vec<sea_orm::Value> = query.terms.iter().map(|t| t.fts5().into()).collect();
    let Some(row) = db
        .query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Sqlite,
            sql,
            values,
        ))
        .await?
    else {
        return Ok(vec![0.0; query.terms.len()]);
    };
    let sampled = Ord::max(row.try_get::<i64>("", "n")?, 1) as f64;
    (0..query.terms.len())
        .map(|i| Ok(row.try_get::<i64>("", &format!("f{i}"))? as f64 / sampled))
        .collect()
}

/// PostgreSQL: the GIN index finds the matches, `ts_rank_cd` orders the
/// newest `RANKED_MATCHES` of them.
async fn postgres_page(
    db: &sea_orm::DatabaseConnection,
    query: &SearchQuery,
    at: chrono::DateTime<chrono::Utc>,
    slice: Window,
) -> Result<Page, AppError> {
    let backend = DatabaseBackend::Postgres;
    let matching = Query::select()
        .expr(Expr::cust("1"))
        .from(article::Entity)
        .cond_where(visible_to_public(at))
        .and_where(matches(backend, query))
        .to_owned();
    let total = count_matches(db, matching, slice).await?;
    if slice.offset >= total.count || slice.limit == 0 {
        return Ok((Vec::new(), total));
    }
    // Phase 1: rank, and keep one page of ids. Snippets are costly, so they
    // are made in phase 2 for that page only, never for every match.
    let mut select = Query::select();
    select
        .expr_as(
            Expr::col((article::Entity, article::Column::Id)),
            Alias::new("id"),
        )
        .expr_as(
            Expr::cust_with_values(
                format!(
                    "CASE WHEN \"articles\".\"published_at\" >= coalesce((\
                       SELECT w.\"published_at\" FROM \"articles\" w \
                       WHERE w.\"search_vector\" @@ to_tsquery('broadsheet_search', $1) \
                         AND w.\"published_at\" IS NOT NULL \
                       ORDER BY w.\"published_at\" DESC OFFSET {} LIMIT 1), '-infinity') \
                     THEN ts_rank_cd(\"articles\".\"search_vector\", \
                       to_tsquery('broadsheet_search', $1))::float8 END",
                    RANKED_MATCHES - 1
                ),
                [query.tsquery()],
            ),
            Alias::new("rank"),
        )
        .from(article::Entity)
        .cond_where(visible_to_public(at))
        .and_where(matches(backend, query))
        .order_by_expr_with_nulls(
            Expr::cust("\"rank\""),
            Order::Desc,
            sea_orm::sea_query::NullOrdering::Last,
        )
        .order_by((article::Entity, article::Column::PublishedAt), Order::Desc)
        .limit(slice.limit)
        .offset(slice.offset);
    let (sql, values) = select.build(PostgresQueryBuilder);
    let mut ranks: Vec<(String, f64)> = Vec::new();
    for row in db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
    {
        ranks.push((
            row.try_get::<String>("", "id")?,
            row.try_get::<Option<f64>>("", "rank")?.unwrap_or(0.0),
        ));
    }
    if ranks.is_empty() {
        return Ok((Vec::new(), total));
    }

    // Phase 2: snippets for this page. `ts_headline` parses all the text it
    // is given, for every hit: only the start of a long body is offered.
    let marks = format!("StartSel={HIT_START}, StopSel={HIT_END}");
    let select = Query::select()
        .expr_as(
            Expr::col((article::Entity, article::Column::Id)),
            Alias::new("id"),
        )
        .expr_as(
            Expr::cust_with_values(
                format!(
                    "ts_headline('broadsheet_search', \"articles\".\"title\" || ' — ' || \
                     coalesce(\"articles\".\"standfirst\" || ' — ', '') || left(\"articles\".\"body_text\", {SNIPPET_SOURCE_CHARS}), \
                     to_tsquery('broadsheet_search', $1), \
                     '{marks}, MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=\" … \"')"
                ),
                [query.tsquery()],
            ),
            Alias::new("snippet"),
        )
        .from(article::Entity)
        .and_where(
            Expr::col((article::Entity, article::Column::Id))
                .is_in(ranks.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>()),
        )
        .to_owned();
    let (sql, values) = select.build(PostgresQueryBuilder);
    let mut snippet_of: std::collections::HashMap<String, String> = Default::default();
    for row in db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
    {
        snippet_of.insert(
            row.try_get::<String>("", "id")?,
            row.try_get::<String>("", "snippet")?,
        );
    }
    let found = ranks
        .into_iter()
        .map(|(id, rank)| {
            let snippet = snippet_of.remove(&id).unwrap_or_default();
            (id, snippet, rank)
        })
        .collect();
    Ok((found, total))
}

/// Rebuild SQLite's FTS index in one transaction; the number of articles
/// indexed, or `None` on PostgreSQL (a generated column needs no rebuild).
pub async fn reindex(db: &sea_orm::DatabaseConnection) -> Result<Option<u64>, AppError> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return Ok(None);
    }
    let txn = super::write_txn_unseen(db).await?;
    for sql in migrations::SQLITE_REINDEX {
        txn.execute_unprepared(sql).await?;
    }
    let n = article::Entity::find().count(&txn).await?;
    txn.commit().await?;
    Ok(Some(n))
}

/// HTML-escape a snippet, then turn the engine's hit marks into `<mark>`.
fn highlight(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 32);
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            HIT_START => out.push_str("<mark>"),
            HIT_END => out.push_str("</mark>"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Option<SearchQuery> {
        SearchQuery::parse(q, "q").unwrap()
    }

    #[test]
    fn words_prefixes_and_phrases() {
        let q = parse("Heihe \"cable car\" multipol*").unwrap();
        assert_eq!(q.fts5(), "\"heihe\" \"cable car\" \"multipol\"*");
        assert_eq!(q.tsquery(), "'heihe' & ('cable' <-> 'car') & 'multipol':*");
    }

    #[test]
    fn hostile_syntax_is_only_text() {
        // FTS5 and tsquery operators, quotes, parentheses, NEAR, column filters.
        let q = parse("title:x OR (a AND NOT b) NEAR(c d) ^e \"unbalanced 'quote").unwrap();
        let fts = q.fts5();
        assert!(
            !fts.contains(':') && !fts.contains('(') && !fts.contains('^'),
            "{fts}"
        );
        let ts = q.tsquery();
        assert!(!ts.contains('!') && !ts.contains('|'), "{ts}");
        assert_eq!(ts.matches('\'').count() % 2, 0, "{ts}");
        assert!(parse("\"\" *** ( ) ' ; --").is_none());
        assert!(parse("").is_none());
    }

    #[test]
    fn one_letter_prefixes_are_words() {
        assert_eq!(parse("a* ch*").unwrap().fts5(), "\"a\" \"ch\"*");
    }

    #[test]
    fn limits() {
        let many = "w ".repeat(100);
        assert_eq!(parse(&many).unwrap().terms.len(), MAX_TERMS);
        assert!(SearchQuery::parse(&"a".repeat(MAX_QUERY_CHARS + 1), "q").is_err());
    }

    #[test]
    fn snippets_are_escaped_before_marking() {
        let raw = format!("a <b> & {HIT_START}hit{HIT_END} \"q\"");
        assert_eq!(
            highlight(&raw),
            "a &lt;b&gt; &amp; <mark>hit</mark> &quot;q&quot;"
        );
    }
}

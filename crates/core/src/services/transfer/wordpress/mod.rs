//! `broadsheet import wordpress FILE.xml`: a WordPress WXR export into
//! articles, authors, tags (categories and tags), sources (mapped
//! categories) and threaded comments. Each post and its comments is one unit
//! (a savepoint): a post that fails leaves nothing behind. Posts are written
//! in transactions of `batch_size` entries (one transaction for everything
//! with `all_or_nothing`). WordPress ids are kept in `import_refs`, so
//! importing the same export again updates rows instead of duplicating them.

use std::{collections::HashMap, io::BufRead};

use sea_orm::ConnectionTrait;

use crate::services::transfer::{
    Notice, Progress, Report,
    wxr::{Entry, Located, WxrReader},
};
use crate::{error::AppError, services::write_txn, state::AppState};

/// `import_refs.system` for WordPress.
pub const SYSTEM: &str = "wordpress";

/// How to import.
#[derive(Debug, Clone)]
pub struct Options {
    /// Category (name or slug, any case) → source (name or slug; made when missing).
    pub source_map: Vec<(String, String)>,
    /// Keep nothing when any item fails or the file cannot be read to the end.
    pub all_or_nothing: bool,
    /// Entries per transaction.
    pub batch_size: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            source_map: Vec::new(),
            all_or_nothing: false,
            batch_size: 100,
        }
    }
}

/// Post types that are WordPress machinery, not content: skipped quietly.
const INTERNAL_TYPES: [&str; 10] = [
    "nav_menu_item",
    "revision",
    "wp_block",
    "wp_template",
    "wp_template_part",
    "wp_global_styles",
    "wp_navigation",
    "custom_css",
    "customize_changeset",
    "oembed_cache",
];

/// What one entry turned into.
enum Done {
    Imported,
    Skipped(String),
}

/// An item failure: the reason (the caller adds where it is).
struct Fail(String);

impl From<AppError> for Fail {
    fn from(e: AppError) -> Self {
        Fail(match e {
            AppError::Internal(e) => format!("database error: {e:#}"),
            other => other.to_string(),
        })
    }
}

impl From<sea_orm::DbErr> for Fail {
    fn from(e: sea_orm::DbErr) -> Self {
        Fail(format!("database error: {e}"))
    }
}

/// Import a WXR document read from `input` (`bytes_total` for progress).
pub async fn import<R: BufRead>(
    state: &AppState,
    input: R,
    bytes_total: Option<u64>,
    opts: &Options,
    mut progress: impl FnMut(Progress),
) -> Result<Report, AppError> {
    let mut reader = WxrReader::with_max_depth(input, state.config.import_max_depth as usize);
    let mut report = Report::default();
    let mut ctx = Context {
        state,
        opts,
        authors: HashMap::new(),
        line: 0,
    };
    let batch_size = opts.batch_size.max(1);
    let mut txn = Some(write_txn(state).await?);
    let mut in_batch = 0usize;
    loop {
        let located = match reader.next_entry() {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                report.stopped = Some(Notice {
                    line: Some(e.line),
                    item: String::new(),
                    reason: e.message,
                });
                break;
            }
        };
        if reader.wxr_version.is_none() {
            report.stopped = Some(Notice {
                line: Some(located.line),
                item: String::new(),
                reason: "not a WordPress export: no <wp:wxr_version> before the first entry".into(),
            });
            break;
        }
        report.entries += 1;
        let current = match txn.take() {
            Some(t) => t,
            None => write_txn(state).await?,
        };
        let line = located.line;
        let item = describe(&located);
        ctx.line = line;
        // Each entry in a savepoint: a failure undoes only that entry.
        let sp = current.savepoint().await?;
        // Counted apart, and kept only when the entry's writes are.
        let mut entry_report = Report::default();
        let done = ctx.entry(&sp, located, &mut entry_report).await;
        if done.is_ok() {
            report.absorb(entry_report);
        }
        match done {
            Ok(Done::Imported) => sp.commit().await?,
            Ok(Done::Skipped(reason)) => {
                sp.commit().await?;
                report.skipped.push(Notice {
                    line: Some(line),
                    item,
                    reason,
                });
            }
            Err(Fail(reason)) => {
                sp.rollback().await?;
                report.failed.push(Notice {
                    line: Some(line),
                    item,
                    reason,
                });
            }
        }
        in_batch += 1;
        if !opts.all_or_nothing && in_batch >= batch_size {
            current.commit().await?;
            in_batch = 0;
        } else {
            txn = Some(current);
        }
        progress(Progress {
            entries: report.entries,
            bytes_read: reader.bytes_read(),
            bytes_total,
        });
    }
    if let Some(t) = txn.take() {
        if opts.all_or_nothing && !report.is_clean() {
            drop(t); // rolls back everything
            report.rolled_back = true;
            report.counts.clear();
        } else {
            t.commit().await?;
        }
    }
    if report.entries == 0 && report.stopped.is_none() {
        report.stopped = Some(Notice {
            line: None,
            item: String::new(),
            reason: "no WordPress channel found (expected <rss><channel> with <wp:wxr_version>)"
                .into(),
        });
    }
    Ok(report)
}

/// `post 12 "Title"` and the like, for messages.
fn describe(l: &Located) -> String {
    match &l.entry {
        Entry::Author(n) => format!("author {:?}", n.get("wp:author_login")),
        Entry::Term(n) => {
            let slug = ["wp:category_nicename", "wp:tag_slug", "wp:term_slug"]
                .iter()
                .map(|k| n.get(k))
                .find(|v| !v.is_empty())
                .unwrap_or("");
            format!("{} {slug:?}", n.name.trim_start_matches("wp:"))
        }
        Entry::Item(n) => {
            let kind = match n.get("wp:post_type") {
                "" => "item",
                t => t,
            };
            format!("{kind} {} {:?}", n.get("wp:post_id"), n.get("title"))
        }
    }
}

struct Context<'a> {
    state: &'a AppState,
    opts: &'a Options,
    /// WordPress login → author id, for authors already imported.
    authors: HashMap<String, String>,
    /// The line of the entry being imported.
    line: u64,
}

impl Context<'_> {
    async fn entry(
        &mut self,
        db: &impl ConnectionTrait,
        located: Located,
        report: &mut Report,
    ) -> Result<Done, Fail> {
        match located.entry {
            Entry::Author(n) => self.author(db, &n, report).await,
            Entry::Term(n) => self.term(db, &n, report).await,
            Entry::Item(n) => self.post(db, &n, report).await,
        }
    }
}

mod comments;
mod markup;
mod posts;
mod refs;
mod terms;

pub use markup::*;
use refs::*;

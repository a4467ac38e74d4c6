//! `broadsheet_rank`, a ranking function for SQLite's FTS5: the BM25 score
//! FTS5's own `bm25()` computes, except that each phrase's document frequency
//! is passed in by the caller instead of counted.
//!
//! `bm25()` counts, on the first row of every query, every document that
//! holds each phrase. For a word found in most of a 100,000-article archive
//! that count alone took longer than the rest of the search. The service
//! estimates the frequencies from the newest articles instead
//! (`services::search`), so ranking costs the same at any archive size.
//!
//! ```sql
//! broadsheet_rank(article_fts, w_1, …, w_ncol, f_1, …, f_nphrase)
//! ```
//!
//! `w_i` weighs column `i` (as `bm25()`'s arguments do; missing ones are 1),
//! `f_p` is the share of documents, 0 to 1, that hold phrase `p`. Higher is
//! more relevant (`bm25()` is lower-is-better).

use std::ffi::{c_int, c_void};

use libsqlite3_sys as ffi;

/// The SQL name of the function.
pub const RANK_FUNCTION: &str = "broadsheet_rank";

/// BM25's parameters, as FTS5 fixes them.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// Register `broadsheet_rank` on one open connection.
///
/// # Safety
///
/// `db` must be an open connection that no other thread uses for the
/// duration of the call.
pub unsafe fn register(db: *mut ffi::sqlite3) -> Result<(), String> {
    // The documented way to reach FTS5's API: `SELECT fts5(?1)` with a
    // pointer bound under the type "fts5_api_ptr".
    let mut api: *mut ffi::fts5_api = std::ptr::null_mut();
    let mut stmt: *mut ffi::sqlite3_stmt = std::ptr::null_mut();
    // SAFETY: `db` is open and ours (the caller's contract); the statement
    // is finalized below on every path; `api` outlives the statement's step,
    // the only time SQLite writes through the bound pointer.
    unsafe {
        let rc = ffi::sqlite3_prepare_v2(
            db,
            c"SELECT fts5(?1)".as_ptr(),
            -1,
            &mut stmt,
            std::ptr::null_mut(),
        );
        if rc != ffi::SQLITE_OK {
            return Err(format!("preparing SELECT fts5(?1) failed with code {rc}"));
        }
        ffi::sqlite3_bind_pointer(
            stmt,
            1,
            (&raw mut api).cast::<c_void>(),
            c"fts5_api_ptr".as_ptr(),
            None,
        );
        ffi::sqlite3_step(stmt);
        ffi::sqlite3_finalize(stmt);
    }
    if api.is_null() {
        return Err("this SQLite has no FTS5".into());
    }
    // SAFETY: `api` is FTS5's API object for this connection, valid while the
    // connection is open; the function has no user data to free.
    let rc = unsafe {
        match (*api).xCreateFunction {
            Some(create) => create(
                api,
                c"broadsheet_rank".as_ptr(),
                std::ptr::null_mut(),
                Some(rank),
                None,
            ),
            None => ffi::SQLITE_ERROR,
        }
    };
    if rc != ffi::SQLITE_OK {
        return Err(format!("registering {RANK_FUNCTION} failed with code {rc}"));
    }
    Ok(())
}

/// What one row's score is computed from, read through FTS5's API.
struct RowStats {
    /// Documents in the table.
    rows: f64,
    /// Mean tokens per document.
    average_length: f64,
    /// Tokens in this document.
    length: f64,
}

/// The function FTS5 calls for each row.
unsafe extern "C" fn rank(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    ctx: *mut ffi::sqlite3_context,
    n_val: c_int,
    values: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: FTS5 calls this with its API, the current row's context and
    // `n_val` argument values, all valid for the duration of the call.
    let outcome = unsafe {
        let args: Vec<f64> = (0..usize::try_from(n_val).unwrap_or(0))
            .map(|i| ffi::sqlite3_value_double(*values.add(i)))
            .collect();
        score(&*api, fts, &args)
    };
    // SAFETY: `ctx` is this call's result context; SQLite copies the message.
    unsafe {
        match outcome {
            Ok(score) => ffi::sqlite3_result_double(ctx, score),
            Err(message) => ffi::sqlite3_result_error(
                ctx,
                message.as_ptr().cast(),
                c_int::try_from(message.len()).unwrap_or(0),
            ),
        }
    }
}

/// The BM25 score of the current row, as `fts5_aux.c` computes it.
///
/// # Safety
///
/// `api` and `fts` must be the ones FTS5 passed to the current call.
unsafe fn score(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    args: &[f64],
) -> Result<f64, &'static str> {
    const MISSING: &str = "FTS5 API function missing";
    let (Some(column_count), Some(phrase_count), Some(row_count), Some(total_size)) = (
        api.xColumnCount,
        api.xPhraseCount,
        api.xRowCount,
        api.xColumnTotalSize,
    ) else {
        return Err(MISSING);
    };
    let (Some(column_size), Some(inst_count), Some(inst)) =
        (api.xColumnSize, api.xInstCount, api.xInst)
    else {
        return Err(MISSING);
    };
    // SAFETY: each is an FTS5 API function called with the current context
    // and out-pointers to locals, as the API documents.
    unsafe {
        let columns = usize::try_from(column_count(fts)).unwrap_or(0);
        let phrases = usize::try_from(phrase_count(fts)).unwrap_or(0);
        // Lenient, never an error: FTS5 drops a phrase that tokenizes to
        // nothing (a lone combining mark, say), so the caller's count of
        // terms can exceed the phrases. A missing weight is 1, a missing
        // share 0; extra arguments are ignored.
        let weights: Vec<f64> = (0..columns)
            .map(|c| args.get(c).copied().unwrap_or(1.0))
            .collect();
        let frequencies: Vec<f64> = (0..phrases)
            .map(|p| args.get(columns + p).copied().unwrap_or(0.0))
            .collect();
        let mut rows: i64 = 0;
        let mut total: i64 = 0;
        let mut length: c_int = 0;
        let mut instances: c_int = 0;
        if row_count(fts, &mut rows) != ffi::SQLITE_OK
            || total_size(fts, -1, &mut total) != ffi::SQLITE_OK
            || column_size(fts, -1, &mut length) != ffi::SQLITE_OK
            || inst_count(fts, &mut instances) != ffi::SQLITE_OK
        {
            return Err("reading FTS5 statistics failed");
        }
        // Weighted hits of each phrase in this row.
        let mut hits = vec![0.0; phrases];
        for i in 0..instances {
            let (mut phrase, mut column, mut offset) = (0, 0, 0);
            if inst(fts, i, &mut phrase, &mut column, &mut offset) != ffi::SQLITE_OK {
                return Err("reading FTS5 instances failed");
            }
            if let (Ok(p), Ok(c)) = (usize::try_from(phrase), usize::try_from(column))
                && p < phrases
                && c < columns
            {
                hits[p] += weights[c];
            }
        }
        let rows = rows.max(1) as f64;
        let stats = RowStats {
            rows,
            average_length: (total as f64 / rows).max(1.0),
            length: f64::from(length),
        };
        Ok(bm25(&stats, &hits, &frequencies))
    }
}

/// BM25 over phrases with their weighted hits in one row and the share of
/// documents that hold each. A phrase in more than half the documents counts
/// for almost nothing, as in FTS5 (its IDF is floored just above zero).
fn bm25(stats: &RowStats, hits: &[f64], frequencies: &[f64]) -> f64 {
    hits.iter()
        .zip(frequencies)
        .map(|(&hits, &share)| {
            let holding = share.clamp(0.0, 1.0) * stats.rows;
            let idf = ((stats.rows - holding + 0.5) / (holding + 0.5))
                .ln()
                .max(1e-6);
            idf * hits * (K1 + 1.0)
                / (hits + K1 * (1.0 - B + B * stats.length / stats.average_length))
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rarer_phrases_and_shorter_documents_score_higher() {
        let stats = |length| RowStats {
            rows: 1000.0,
            average_length: 100.0,
            length,
        };
        let rare = bm25(&stats(100.0), &[1.0], &[0.01]);
        let common = bm25(&stats(100.0), &[1.0], &[0.2]);
        assert!(rare > common, "{rare} {common}");
        let short = bm25(&stats(50.0), &[1.0], &[0.01]);
        assert!(short > rare, "{short} {rare}");
        let more_hits = bm25(&stats(100.0), &[3.0], &[0.01]);
        assert!(more_hits > rare, "{more_hits} {rare}");
        // FTS5's floor: a phrase in every document still counts a little.
        let everywhere = bm25(&stats(100.0), &[1.0], &[1.0]);
        assert!(everywhere > 0.0 && everywhere < 1e-5, "{everywhere}");
        assert_eq!(bm25(&stats(100.0), &[0.0], &[0.01]), 0.0);
    }
}

//! The `broadsheet` binary: parse the command line and hand over to `cli`.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc for Rust's allocations: glibc malloc and free were a sixth of the
/// server's CPU under load (bench/RESULTS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tune_allocators();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let cli = broadsheet::cli::Cli::parse();
    match runtime.block_on(broadsheet::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            match err.downcast_ref::<broadsheet::cli::Exit>() {
                Some(exit) => ExitCode::from(exit.code),
                None => ExitCode::FAILURE,
            }
        }
    }
}

/// `mi_option_purge_delay` in mimalloc.h (v2 and v3), which libmimalloc-sys
/// does not name.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Have both allocators hand freed memory back to the system, before any
/// thread starts. Each setting yields to the environment variables that set
/// it, so an operator can still choose (`MIMALLOC_PURGE_DELAY` or its old
/// name `MIMALLOC_RESET_DELAY`; `glibc.malloc.*` in `GLIBC_TUNABLES`, or
/// `MALLOC_MMAP_THRESHOLD_` and `MALLOC_TRIM_THRESHOLD_`).
///
/// - mimalloc (Rust's allocations) keeps freed pages for a second before
///   purging them, and only purges when it next allocates: the 19 MB an
///   argon2 hash takes stayed resident after every login or first start.
///   Purging at once took the server from 47 to 28 MB at start-up.
/// - glibc (SQLite's allocations), after one large free, raises its mmap and
///   trim thresholds for good, so that later large buffers (FTS5 merges
///   prefix matches in memory) stay in its arenas. Fixed thresholds keep
///   them returned. (One arena instead of one per thread saved 4 MB more
///   after searches, but cost comment writes an eighth of their rate.)
fn tune_allocators() {
    let set = |name: &str| {
        std::env::vars_os().any(|(key, _)| key.to_string_lossy().eq_ignore_ascii_case(name))
    };
    if !set("MIMALLOC_PURGE_DELAY") && !set("MIMALLOC_RESET_DELAY") {
        // SAFETY: sets a process-wide option that mimalloc reads on each purge
        // decision; valid at any time.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
        let by_operator = |tunable: &str, variable: &str| {
            tunables.contains(tunable) || std::env::var_os(variable).is_some()
        };
        if !by_operator("glibc.malloc.mmap_threshold", "MALLOC_MMAP_THRESHOLD_") {
            // SAFETY: mallopt only changes malloc's parameters; called here
            // before any other thread exists.
            unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024) };
        }
        if !by_operator("glibc.malloc.trim_threshold", "MALLOC_TRIM_THRESHOLD_") {
            // SAFETY: as above.
            unsafe { libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024) };
        }
    }
}

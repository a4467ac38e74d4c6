//! The `broadsheet` binary: parse the command line and hand over to `cli`.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc for Rust's allocations: glibc malloc and free were a sixth of the
/// server's CPU under load (bench/RESULTS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = broadsheet::cli::Cli::parse();
    match broadsheet::cli::run(cli).await {
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

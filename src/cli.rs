//! The command line: `serve` (default), `migrate`, `users create`, `seed`,
//! `schema export`. Every failure is one line naming what to fix.

use std::{io::Read, path::PathBuf};

use anyhow::{Context, anyhow};
use clap::{Args, Parser, Subcommand};
use migrations::{Migrator, MigratorTrait};

use crate::{
    Application,
    auth::Role,
    config::Config,
    db,
    error::AppError,
    services::{self, seed::SeedOutcome, users::NewUser},
    state::AppState,
    telemetry,
};

#[derive(Debug, Parser)]
#[command(
    name = "broadsheet",
    version,
    about = "A headless content API over REST and GraphQL"
)]
pub struct Cli {
    /// Optional TOML file with settings; the environment overrides it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply, roll back or list database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Manage user accounts.
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
    /// Fill the database with content.
    Seed(SeedArgs),
    /// Full-text search index.
    Search {
        #[command(subcommand)]
        action: SearchAction,
    },
    /// Import content: a WordPress export, or a file from `broadsheet export`.
    Import {
        #[command(subcommand)]
        action: ImportAction,
    },
    /// Write all content to a versioned JSON file (see README, "Moving content").
    Export(ExportArgs),
    /// Generated contract files.
    Schema {
        #[command(subcommand)]
        action: SchemaAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply all pending migrations.
    Up,
    /// Roll back the latest migration (or `--steps N`, or `--all`).
    Down {
        #[arg(long, default_value_t = 1)]
        steps: u32,
        #[arg(long, conflicts_with = "steps")]
        all: bool,
    },
    /// List migrations and whether each is applied.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum UsersAction {
    /// Create a user; the password is read from BROADSHEET_PASSWORD or stdin.
    Create {
        #[arg(long)]
        email: String,
        /// admin, editor, author or contributor.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("kind").required(true).args(["demo", "synthetic"])))]
pub struct SeedArgs {
    /// The demo publication: one cross-posted article, its author, source, tags and a comment.
    #[arg(long)]
    pub demo: bool,
    /// A synthetic archive for benchmarks (see --articles, --comments-per-article).
    #[arg(long)]
    pub synthetic: bool,
    /// Synthetic articles to create.
    #[arg(long, default_value_t = 1000, requires = "synthetic")]
    pub articles: u64,
    /// Approved comments per synthetic article (every fourth a reply).
    #[arg(long, default_value_t = 10, requires = "synthetic")]
    pub comments_per_article: u64,
    /// Random seed: the same seed makes the same text.
    #[arg(long, default_value_t = 1, requires = "synthetic")]
    pub seed: u64,
    /// Also write every synthetic article's slug, one per line, to FILE.
    #[arg(long, value_name = "FILE", requires = "synthetic")]
    pub slugs_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ImportAction {
    /// A WordPress eXtended RSS (WXR) export, read as a stream. Exit codes:
    /// 0 all imported, 2 unreadable or not a WXR file, 3 some items failed
    /// (the rest imported), 4 items failed and --all-or-nothing kept none.
    Wordpress(WordpressArgs),
    /// A file written by `broadsheet export`, into an empty database, in one
    /// transaction. Exit codes: 0 imported, 2 refused (unreadable, another
    /// format or version, database not empty), 4 failed (nothing kept).
    Json {
        #[arg(value_name = "FILE.json")]
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct WordpressArgs {
    #[arg(value_name = "FILE.xml")]
    pub file: PathBuf,
    /// Posts in category CATEGORY (name or slug) become cross-posts of source
    /// SOURCE (name or slug; made when missing). Repeatable.
    #[arg(long = "source-map", value_name = "CATEGORY=SOURCE", value_parser = parse_mapping)]
    pub source_map: Vec<(String, String)>,
    /// Import nothing unless every item can be imported.
    #[arg(long)]
    pub all_or_nothing: bool,
    /// Entries (authors, terms, posts) per transaction.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: u64,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(value_name = "FILE.json")]
    pub file: PathBuf,
    /// Include users' password hashes (left out by default).
    #[arg(long)]
    pub include_credentials: bool,
}

fn parse_mapping(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
            Ok((k.trim().to_string(), v.trim().to_string()))
        }
        _ => Err(format!("{value:?} is not CATEGORY=SOURCE")),
    }
}

/// A failure with its own exit code (see the import commands' help).
#[derive(Debug)]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

/// Exit codes of the import commands.
pub mod exit {
    /// The file cannot be read, is not of the expected format or version,
    /// or (json) the database is not empty. Nothing was imported.
    pub const REFUSED: u8 = 2;
    /// Some items failed; the others were imported.
    pub const PARTIAL: u8 = 3;
    /// Something failed and nothing was imported (--all-or-nothing, or json).
    pub const NOTHING: u8 = 4;
}

fn exit_with(code: u8, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Exit {
        code,
        message: message.into(),
    })
}

#[derive(Debug, Subcommand)]
pub enum SearchAction {
    /// Rebuild SQLite's search index from the articles (run it after a
    /// `VACUUM`, which may renumber the rowids the index is keyed on).
    /// PostgreSQL's index is a generated column and never needs it.
    Reindex,
}

#[derive(Debug, Subcommand)]
pub enum SchemaAction {
    /// Write schema.graphql and openapi.yaml into DIR (default: current directory).
    Export {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
}

fn parse_role(value: &str) -> Result<Role, String> {
    Role::parse(value)
        .ok_or_else(|| format!("{value:?} is not one of admin, editor, author, contributor"))
}

/// Run one command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::Schema {
        action: SchemaAction::Export { dir },
    }) = &cli.command
    {
        return export_schema(dir);
    }
    let config = Config::load(cli.config.as_deref())?;
    telemetry::init(&config.log_level, config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate { action } => migrate(&config, action).await,
        Command::Users {
            action: UsersAction::Create { email, role, name },
        } => create_user(&config, email, role, name).await,
        Command::Seed(args) => seed(config, args).await,
        Command::Import {
            action: ImportAction::Wordpress(args),
        } => import_wordpress(config, args).await,
        Command::Import {
            action: ImportAction::Json { file },
        } => import_json(config, file).await,
        Command::Export(args) => export(config, args).await,
        Command::Search {
            action: SearchAction::Reindex,
        } => {
            let db = db::connect(&config).await?;
            let n = services::search::reindex(&db)
                .await
                .map_err(|e| anyhow!("reindex failed: {e}"))?;
            match n {
                Some(n) => println!("search index rebuilt: {n} articles"),
                None => println!("PostgreSQL keeps its search index itself: nothing to do"),
            }
            Ok(())
        }
        Command::Schema { .. } => unreachable!("handled before loading the configuration"),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    tracing::info!(address = %app.local_addr(), "Broadsheet is serving http://{}", app.local_addr());
    app.run_until(shutdown_signal()).await.context("serving")?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

async fn migrate(config: &Config, action: MigrateAction) -> anyhow::Result<()> {
    let db = db::connect(config).await?;
    match action {
        MigrateAction::Up => {
            Migrator::up(&db, None)
                .await
                .map_err(|e| anyhow!("migrate up failed: {e}"))?;
            println!("all migrations applied");
        }
        MigrateAction::Down { steps, all } => {
            let steps = if all { None } else { Some(steps) };
            Migrator::down(&db, steps)
                .await
                .map_err(|e| anyhow!("migrate down failed: {e}"))?;
            println!(
                "rolled back {}",
                steps.map_or("every migration".to_string(), |n| format!(
                    "{n} migration(s)"
                ))
            );
        }
        MigrateAction::Status => {
            for m in Migrator::get_migration_with_status(&db)
                .await
                .map_err(|e| anyhow!("reading migration status failed: {e}"))?
            {
                println!("{:<8} {}", m.status().to_string().to_lowercase(), m.name());
            }
        }
    }
    Ok(())
}

async fn create_user(
    config: &Config,
    email: String,
    role: Role,
    name: Option<String>,
) -> anyhow::Result<()> {
    let password = match std::env::var("BROADSHEET_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .context("reading the password from stdin")?;
            input.lines().next().unwrap_or("").to_string()
        }
    };
    let db = db::connect(config).await?;
    if config.migrate_on_start {
        db::migrate_up(&db)
            .await
            .map_err(|e| anyhow!("cannot apply migrations: {e}"))?;
    }
    let user = services::users::create(
        &db,
        &crate::auth::passwords::PasswordHasher::standalone(),
        NewUser {
            email,
            password,
            display_name: name,
            role,
            author_id: None,
        },
    )
    .await
    .map_err(describe)?;
    println!("created {} {} ({})", user.role, user.email, user.id);
    Ok(())
}

async fn seed(config: Config, args: SeedArgs) -> anyhow::Result<()> {
    let state = state_for(config).await?;
    if args.synthetic {
        let started = std::time::Instant::now();
        let total = args.articles;
        let outcome = services::seed::synthetic(
            &state,
            total,
            args.comments_per_article,
            args.seed,
            |made| {
                if made.is_multiple_of(2_500) || made == total {
                    eprintln!("  {made}/{total} articles");
                }
            },
        )
        .await
        .map_err(describe)?;
        if state.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            // After a bulk load the search index's GIN pending list is full and
            // the statistics are empty, and PostgreSQL scans every article's
            // search vector instead of using the index (145 ms instead of 2 ms
            // per query on 10,000 articles) until autovacuum comes by.
            use sea_orm::ConnectionTrait;
            state
                .db
                .execute_unprepared("VACUUM ANALYZE")
                .await
                .map_err(|e| anyhow!("VACUUM ANALYZE after seeding failed: {e}"))?;
        }
        crate::cache::notify_other_instances(&state.db).await;
        if let Some(path) = &args.slugs_file {
            std::fs::write(path, outcome.slugs.join("\n") + "\n")
                .with_context(|| format!("writing {}", path.display()))?;
        }
        println!(
            "seeded {} synthetic articles and {} comments in {:.1} s",
            outcome.articles,
            outcome.comments,
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let outcome = services::seed::demo(&state).await.map_err(describe)?;
    crate::cache::notify_other_instances(&state.db).await;
    match outcome {
        SeedOutcome::Created { article_slug } => {
            println!("seeded the demo publication: /api/v1/articles/{article_slug}")
        }
        SeedOutcome::AlreadyPresent => {
            println!("the demo publication is already there; nothing changed")
        }
    }
    Ok(())
}

/// Connect, migrate when configured, and build the state services take.
async fn state_for(config: Config) -> anyhow::Result<AppState> {
    let db = db::connect(&config).await?;
    if config.migrate_on_start {
        db::migrate_up(&db)
            .await
            .map_err(|e| anyhow!("cannot apply migrations: {e}"))?;
    }
    let (keys, _) = crate::auth::claims::JwtKeys::from_config(&config)?;
    Ok(AppState::new(db, config, keys))
}

/// A `\r` counter on a terminal, a line every few seconds otherwise.
struct ProgressDisplay {
    terminal: bool,
    last: std::time::Instant,
    shown: bool,
}

impl ProgressDisplay {
    fn new() -> Self {
        use std::io::IsTerminal;
        ProgressDisplay {
            terminal: std::io::stderr().is_terminal(),
            last: std::time::Instant::now(),
            shown: false,
        }
    }

    fn tick(&mut self, p: services::transfer::Progress) {
        let every = if self.terminal {
            std::time::Duration::from_millis(200)
        } else {
            std::time::Duration::from_secs(5)
        };
        if self.last.elapsed() < every {
            return;
        }
        self.last = std::time::Instant::now();
        let share = p
            .bytes_total
            .filter(|&t| t > 0)
            .map(|t| format!(" ({}%)", p.bytes_read * 100 / t))
            .unwrap_or_default();
        let text = format!(
            "importing: {} entries, {:.1} MB read{share}",
            p.entries,
            p.bytes_read as f64 / 1e6
        );
        if self.terminal {
            eprint!("\r{text}\x1b[K");
            self.shown = true;
        } else {
            eprintln!("{text}");
        }
    }

    fn finish(&self) {
        if self.shown {
            eprint!("\r\x1b[K");
        }
    }
}

async fn import_wordpress(config: Config, args: WordpressArgs) -> anyhow::Result<()> {
    use services::transfer::wordpress;
    let file = std::fs::File::open(&args.file).map_err(|e| {
        exit_with(
            exit::REFUSED,
            format!("cannot read {}: {e}", args.file.display()),
        )
    })?;
    let total = file.metadata().ok().map(|m| m.len());
    let state = state_for(config).await?;
    let opts = wordpress::Options {
        source_map: args.source_map,
        all_or_nothing: args.all_or_nothing,
        batch_size: usize::try_from(args.batch_size).unwrap_or(usize::MAX),
    };
    let mut display = ProgressDisplay::new();
    let report = wordpress::import(
        &state,
        std::io::BufReader::with_capacity(256 * 1024, file),
        total,
        &opts,
        |p| display.tick(p),
    )
    .await
    .map_err(describe)?;
    display.finish();
    crate::cache::notify_other_instances(&state.db).await;
    for s in &report.skipped {
        eprintln!("skipped: {s}");
    }
    for f in &report.failed {
        eprintln!("failed: {f}");
    }
    if let Some(stop) = &report.stopped {
        eprintln!("stopped: {stop}");
    }
    println!("{}: {}", args.file.display(), report.summary());
    let problems = report.failed.len() + usize::from(report.stopped.is_some());
    if report.is_clean() {
        Ok(())
    } else if report.entries == 0 {
        Err(exit_with(
            exit::REFUSED,
            format!(
                "nothing imported from {}: {}",
                args.file.display(),
                report
                    .stopped
                    .as_ref()
                    .map_or("no entries".to_string(), |s| s.to_string())
            ),
        ))
    } else if report.rolled_back {
        Err(exit_with(
            exit::NOTHING,
            format!("{problems} problem(s) and --all-or-nothing: nothing was imported"),
        ))
    } else {
        Err(exit_with(
            exit::PARTIAL,
            format!("{problems} problem(s) (see above); every other item was imported"),
        ))
    }
}

async fn import_json(config: Config, path: PathBuf) -> anyhow::Result<()> {
    use services::transfer::json::{self, ImportError};
    let open = || {
        std::fs::File::open(&path)
            .map(|f| std::io::BufReader::with_capacity(256 * 1024, f))
            .map_err(|e| {
                exit_with(
                    exit::REFUSED,
                    format!("cannot read {}: {e}", path.display()),
                )
            })
    };
    let refused = |e: ImportError| match e {
        ImportError::Refused(m) => exit_with(exit::REFUSED, format!("{}: {m}", path.display())),
        ImportError::Failed(m) => exit_with(exit::NOTHING, format!("{}: {m}", path.display())),
    };
    json::check_header(open()?).map_err(refused)?;
    let doc = json::parse(open()?).map_err(refused)?;
    let state = state_for(config).await?;
    let restored = json::import(&state, doc).await.map_err(refused)?;
    crate::cache::notify_other_instances(&state.db).await;
    println!(
        "imported {}: {}",
        path.display(),
        restored
            .iter()
            .map(|(t, n)| format!("{n} {t}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

async fn export(config: Config, args: ExportArgs) -> anyhow::Result<()> {
    use std::io::Write;
    let state = state_for(config).await?;
    let doc = services::transfer::json::export(&state.db, args.include_credentials)
        .await
        .map_err(describe)?;
    // Write beside the target and rename, so a failure leaves no half file.
    let tmp = args.file.with_extension("json.partial");
    let write = || -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        serde_json::to_writer_pretty(&mut out, &doc)?;
        out.write_all(b"\n")?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, &args.file)
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(anyhow!("writing {}: {e}", args.file.display()));
    }
    println!(
        "exported {} articles, {} comments, {} authors, {} sources, {} tags, {} users{} to {}",
        doc.articles.len(),
        doc.comments.len(),
        doc.authors.len(),
        doc.sources.len(),
        doc.tags.len(),
        doc.users.len(),
        if args.include_credentials {
            " (with password hashes)"
        } else {
            ""
        },
        args.file.display()
    );
    Ok(())
}

fn export_schema(dir: &std::path::Path) -> anyhow::Result<()> {
    let graphql = dir.join("schema.graphql");
    let openapi = dir.join("openapi.yaml");
    std::fs::write(&graphql, crate::graphql::sdl())
        .with_context(|| format!("writing {}", graphql.display()))?;
    std::fs::write(&openapi, crate::rest::openapi::yaml())
        .with_context(|| format!("writing {}", openapi.display()))?;
    println!("wrote {} and {}", graphql.display(), openapi.display());
    Ok(())
}

/// One line for a service error on the command line.
fn describe(err: AppError) -> anyhow::Error {
    match err {
        AppError::Validation(fields) => anyhow!(
            "{}",
            fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        AppError::Internal(e) => e,
        other => anyhow!("{other}"),
    }
}

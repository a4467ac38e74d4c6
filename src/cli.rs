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
    let db = db::connect(&config).await?;
    if config.migrate_on_start {
        db::migrate_up(&db)
            .await
            .map_err(|e| anyhow!("cannot apply migrations: {e}"))?;
    }
    let (keys, _) = crate::auth::claims::JwtKeys::from_config(&config)?;
    let state = AppState::new(db, config, keys);
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
        crate::response_cache::notify_other_instances(&state.db).await;
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
    crate::response_cache::notify_other_instances(&state.db).await;
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

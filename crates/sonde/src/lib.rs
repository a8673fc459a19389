//! The `sonde` command: serve, demo, user and token administration, survey import,
//! migrations, the secret key's rotation and benchmarks. Thin: each command is a few calls
//! into the engine.

pub mod bench;
mod demo;
pub mod salesforce_kit;
pub mod secrets_cli;
mod twilio_signatures;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use engine::responses::rfc3339;
use engine::{Config, Role, Sonde};
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use store::Store;

#[derive(Parser, Debug)]
#[command(
    name = "sonde",
    version,
    about = "Self-hosted surveys with a two-way Salesforce integration"
)]
pub struct Cli {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data lives: SQLite under the data dir unless a database URL is given.
#[derive(Args, Debug, Clone)]
pub struct DbArgs {
    /// Directory for the embedded SQLite database (and other local state).
    #[arg(
        long,
        global = true,
        env = "SONDE_DATA_DIR",
        default_value = "./sonde-data"
    )]
    pub data_dir: PathBuf,
    /// `postgres://...` (several nodes) or `sqlite://...`; overrides --data-dir.
    #[arg(
        long,
        global = true,
        env = "SONDE_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
}

impl DbArgs {
    pub async fn open(&self) -> anyhow::Result<Store> {
        let store = match &self.database_url {
            Some(url) => Store::connect(url)
                .await
                .with_context(|| format!("connecting to {}", store::redact_url(url)))?,
            None => Store::open_data_dir(&self.data_dir)
                .await
                .with_context(|| format!("opening the data dir {}", self.data_dir.display()))?,
        };
        store.migrate().await.context("running migrations")?;
        Ok(store)
    }
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SONDE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The URL people reach this server at (used in survey and opt-out links).
    #[arg(long, env = "SONDE_PUBLIC_URL")]
    pub public_url: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Run the server with a demo organization, admin login and sample survey, beside the
    /// built-in Salesforce org with its demo company (nothing to set up).
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
        /// Where the built-in Salesforce org listens.
        #[arg(long, default_value = "127.0.0.1:8081")]
        sfsim_listen: SocketAddr,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Survey files.
    #[command(subcommand)]
    Survey(SurveyCommand),
    /// SOQL tools: canonical formatting and validation of a query read on stdin.
    #[command(subcommand)]
    Soql(SoqlCommand),
    /// Salesforce set-up: the install kit an admin deploys.
    #[command(subcommand)]
    Salesforce(salesforce_kit::SalesforceCommand),
    /// Run the built-in local Salesforce org (prints one JSON line with its URLs and credentials).
    Sfsim(sfsim::cli::Args),
    /// On a built-in org's authorize page, sign in and Allow as a person would in a browser;
    /// prints the URL the org sends the browser back to (open it to finish linking).
    SfsimAllow {
        /// The `authorizeUrl` Sonde answered when linking started.
        authorize_url: String,
        #[arg(long)]
        username: String,
        /// Read the password from standard input (first line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Run the built-in local SMS gateway speaking Twilio's Messages API (prints one JSON
    /// line with its URL, credentials and numbers).
    Smsim(smsim::cli::Args),
    /// Run the built-in mail catcher: an SMTP server whose received messages are shown as
    /// JSON over HTTP (prints one JSON line with both URLs).
    Mailsim(mailsim::cli::Args),
    /// The key sealing secrets at rest: a new key, which key seals what, rotation.
    #[command(subcommand)]
    Secrets(secrets_cli::SecretsCommand),
    /// Print benchmark figures.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// For the Twilio conformance script: reads JSON lines `{"token","url","params"
    /// [,"signature"]}` and prints our signature (and whether the given one verifies).
    #[command(hide = true)]
    TwilioSignatures,
}

#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// Add a user (to the first organization; created when there is none).
    Add {
        email: String,
        #[arg(long, default_value = "editor")]
        role: String,
        /// Read the password from standard input (first line).
        #[arg(long)]
        password_stdin: bool,
        /// Update the password and role if the user exists (ends the user's sessions).
        #[arg(long)]
        update: bool,
    },
    /// Deactivate a user: their sessions end, their API tokens are revoked, and they cannot
    /// sign in until reactivated.
    Deactivate { email: String },
    /// Let a deactivated user sign in again (their old API tokens stay revoked).
    Reactivate { email: String },
}

#[derive(Subcommand, Debug)]
pub enum TokensCommand {
    /// Create an API token for a user and print it (shown once).
    Create {
        email: String,
        #[arg(long, default_value = "cli")]
        name: String,
        /// The token stops working after this many days (default: it does not expire).
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
    /// List a user's API tokens (id, name, created, last used, expiry; never the secret).
    List { email: String },
    /// Revoke an API token by id (from `tokens list`).
    Revoke { id: String },
}

#[derive(Subcommand, Debug)]
pub enum SoqlCommand {
    /// Print the canonical form of the query on stdin; exit 1 with the error if invalid.
    Fmt {
        /// Also accept Apex-only syntax (bind variables, ALL ROWS).
        #[arg(long)]
        apex: bool,
    },
    /// Print `ok` if the query on stdin is valid; exit 1 with the error if not.
    Check {
        #[arg(long)]
        apex: bool,
        /// Also refuse what an inbound connector pull cannot use (GROUP BY, aggregates, ...).
        #[arg(long)]
        connector: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum SurveyCommand {
    /// Import a `.qsf` (or native `.json`) survey file, owned by the given user.
    Import {
        file: PathBuf,
        #[arg(long)]
        owner: String,
    },
}

pub fn init_logging() {
    use tracing_subscriber::{fmt, EnvFilter};
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("SONDE_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let store = cli.db.open().await?;
            serve_in(store, &args, Some(&cli.db.data_dir), None).await
        }
        Command::Demo {
            serve,
            sfsim_listen,
        } => demo::run(&cli.db, &serve, sfsim_listen).await,
        Command::Migrate => {
            cli.db.open().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Users(UsersCommand::Add {
            email,
            role,
            password_stdin,
            update,
        }) => {
            let role = Role::parse(&role)
                .with_context(|| format!("unknown role {role:?}: use admin, editor or viewer"))?;
            if !password_stdin {
                bail!("pass the password on standard input with --password-stdin");
            }
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input)?;
            let password = input.lines().next().unwrap_or_default().to_string();
            let sonde = open_sonde(&cli.db, None).await?;
            let actor = match sonde.add_user(None, &email, role, &password).await {
                Err(engine::Error::Conflict(_)) if update => {
                    sonde.reset_user(&email, role, &password).await?
                }
                other => other?,
            };
            println!(
                "{} ({}) in organization {}",
                actor.email,
                actor.role.as_str(),
                actor.org_id
            );
            Ok(())
        }
        Command::Users(UsersCommand::Deactivate { email }) => {
            let sonde = open_sonde(&cli.db, None).await?;
            let ended = sonde.deactivate_user_by_email(&email).await?;
            println!(
                "{email} deactivated: {} session(s) ended, {} API token(s) revoked",
                ended.sessions, ended.api_tokens
            );
            Ok(())
        }
        Command::Users(UsersCommand::Reactivate { email }) => {
            let sonde = open_sonde(&cli.db, None).await?;
            sonde.reactivate_user_by_email(&email).await?;
            println!("{email} may sign in again");
            Ok(())
        }
        Command::Tokens(TokensCommand::Create {
            email,
            name,
            expires_in_days,
        }) => {
            let sonde = open_sonde(&cli.db, None).await?;
            let made = sonde
                .create_api_token_for(&email, &name, expires_in_days)
                .await
                .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
            println!("{}", made.token);
            Ok(())
        }
        Command::Tokens(TokensCommand::List { email }) => {
            let sonde = open_sonde(&cli.db, None).await?;
            let now = store::now_ms();
            for t in sonde.api_tokens_of(&email).await? {
                let used = t.last_used_at.map_or("never used".into(), |at| {
                    format!("last used {}", rfc3339(at))
                });
                let expiry = match t.expires_at {
                    Some(at) if at <= now => format!("expired {}", rfc3339(at)),
                    Some(at) => format!("expires {}", rfc3339(at)),
                    None => "does not expire".into(),
                };
                println!(
                    "{}\t{}\tcreated {}\t{used}\t{expiry}",
                    t.id,
                    t.name,
                    rfc3339(t.created_at)
                );
            }
            Ok(())
        }
        Command::Tokens(TokensCommand::Revoke { id }) => {
            let sonde = open_sonde(&cli.db, None).await?;
            sonde.revoke_api_token_by_id(&id).await?;
            println!("{id} revoked");
            Ok(())
        }
        Command::Survey(SurveyCommand::Import { file, owner }) => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let sonde = open_sonde(&cli.db, None).await?;
            let actor = sonde.user_by_email(&owner).await?;
            let created = if file.extension().is_some_and(|e| e == "json") {
                sonde.create_survey(&actor, text).await
            } else {
                sonde.import_qsf(&actor, text).await
            }
            .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), describe(&e)))?;
            println!("{}", created.survey.id);
            for w in created.warnings {
                eprintln!("warning: {w}");
            }
            Ok(())
        }
        Command::Secrets(cmd) => secrets_cli::run(&cli.db, cmd).await,
        Command::Bench(cmd) => bench::run(cmd).await,
        Command::Salesforce(cmd) => salesforce_kit::run(cmd),
        Command::Sfsim(args) => sfsim::cli::run(args).await,
        Command::Smsim(args) => smsim::cli::run(args).await,
        Command::Mailsim(args) => mailsim::cli::run(args).await,
        Command::TwilioSignatures => twilio_signatures::run(),
        Command::SfsimAllow {
            authorize_url,
            username,
            password_stdin,
        } => {
            if !password_stdin {
                bail!("pass the password on standard input with --password-stdin");
            }
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input)?;
            let password = input.lines().next().unwrap_or_default();
            // The authorize page posts back to its own origin.
            let url = reqwest::Url::parse(&authorize_url).context("AUTHORIZE_URL")?;
            let login_url = url.origin().ascii_serialization();
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?;
            let back = bench::mapping::allow_on_authorize_page(
                &http,
                &authorize_url,
                &login_url,
                &username,
                password,
            )
            .await?;
            println!("{back}");
            Ok(())
        }
        Command::Soql(cmd) => {
            let mut query = String::new();
            std::io::stdin().read_to_string(&mut query)?;
            let outcome = match cmd {
                SoqlCommand::Fmt { apex } => soql::cli::fmt(&query, apex).map(|s| println!("{s}")),
                SoqlCommand::Check { apex, connector } => {
                    soql::cli::check(&query, apex, connector).map(|()| println!("ok"))
                }
            };
            if let Err(message) = outcome {
                eprintln!("{message}");
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

fn describe(e: &engine::Error) -> String {
    match e {
        engine::Error::Invalid { message, problems } => {
            let mut s = message.clone();
            for p in problems {
                s.push_str(&format!("\n  {p}"));
            }
            s
        }
        other => other.to_string(),
    }
}

async fn open_sonde(db: &DbArgs, public_url: Option<String>) -> anyhow::Result<Sonde> {
    let store = db.open().await?;
    let key = instance_key(Some(&db.data_dir), store.backend())?;
    Ok(Sonde::with_secrets(
        store,
        Config {
            public_url: public_url.unwrap_or_else(|| "http://127.0.0.1:8080".into()),
        },
        key,
    )
    .await?)
}

/// The key that seals secrets at rest: `SONDE_SECRET_KEY`, else on SQLite the data dir's
/// `secret.key` (created on first run). None on PostgreSQL without the variable: every node
/// needs the same key, so none is generated for them.
fn instance_key(
    data_dir: Option<&std::path::Path>,
    backend: store::Backend,
) -> anyhow::Result<Option<engine::secrets::SecretBox>> {
    Ok(
        match (engine::secrets::SecretBox::from_env()?, data_dir, backend) {
            (Some(key), _, _) => Some(key),
            (None, Some(dir), store::Backend::Sqlite) => {
                Some(engine::secrets::SecretBox::load_or_create(dir)?)
            }
            (None, _, _) => None,
        },
    )
}

/// Binds, then serves until Ctrl-C. `ready` receives the bound address (tests, demo).
pub async fn serve(
    store: Store,
    args: &ServeArgs,
    ready: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
) -> anyhow::Result<()> {
    serve_in(store, args, None, ready).await
}

/// As [`serve`], with the data directory that holds `secret.key` (the key sealing Salesforce
/// tokens) when `SONDE_SECRET_KEY` is not set. PostgreSQL deployments must set the variable:
/// every node needs the same key, so none is generated for them.
pub async fn serve_in(
    store: Store,
    args: &ServeArgs,
    data_dir: Option<&std::path::Path>,
    ready: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
) -> anyhow::Result<()> {
    let (listener, sonde) = prepare(store, args, data_dir).await?;
    run_server(listener, sonde, web::ui_outbox::Outbox::from_env(), ready).await
}

/// Binds the listener and builds the application (keys, leases) without serving yet.
async fn prepare(
    store: Store,
    args: &ServeArgs,
    data_dir: Option<&std::path::Path>,
) -> anyhow::Result<(tokio::net::TcpListener, Sonde)> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let backend = store.backend();
    // A typo in the list of allowed hosts stops the server instead of refusing every link.
    engine::connections::SalesforceSettings::allowed_hosts_from_env()
        .map_err(anyhow::Error::msg)?;
    // A server without the key could neither sign opt-out links nor keep Salesforce tokens:
    // refuse to start rather than fail respondents later.
    let Some(key) = instance_key(data_dir, backend)? else {
        bail!(
            "set {} (base64 of 32 bytes, e.g. `openssl rand -base64 32`; the same on every node): \
             it seals Salesforce tokens and the opt-out signing key in the database",
            engine::secrets::KEY_ENV
        );
    };
    // A wrong mail setting stops the server instead of failing every invitation later.
    let mail = engine::mail::MailSettings::from_env().map_err(anyhow::Error::msg)?;
    // Likewise a half-configured Twilio account (say, a token without a sender).
    let sms = engine::sms::SmsSettings::from_env().map_err(anyhow::Error::msg)?;
    let sonde = Sonde::with_secrets(store, Config { public_url }, Some(key)).await?;
    if let Some(settings) = mail {
        sonde.set_mailer(Some(
            engine::mail::Mailer::new(settings).map_err(anyhow::Error::msg)?,
        ));
    }
    if let Some(settings) = sms {
        sonde.set_sms(Some(
            engine::sms::SmsGateway::new(settings).map_err(anyhow::Error::msg)?,
        ));
    }
    if backend == store::Backend::Sqlite {
        // One server per SQLite file: whatever a previous process held is orphaned now.
        for kind in [
            engine::delivery::WORKFLOW_JOB,
            engine::distributions::START_JOB,
            engine::distributions::FOLLOW_UP_JOB,
            engine::distribution_sending::SEND_JOB,
            engine::distribution_sending::TEST_SEND_JOB,
            engine::sms_sending::SMS_SEND_JOB,
            engine::sms_sending::SMS_REPLY_JOB,
        ] {
            let released = sonde.store.release_all_leases(kind).await?;
            if released > 0 {
                tracing::info!(
                    released,
                    kind,
                    "requeued jobs left running by the previous process"
                );
            }
        }
    }
    Ok((listener, sonde))
}

/// Starts the background work and serves until Ctrl-C.
/// `outbox`: the local gateways whose messages the admins' Outbox page shows (the demo's).
async fn run_server(
    listener: tokio::net::TcpListener,
    sonde: Sonde,
    outbox: web::ui_outbox::Outbox,
    ready: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    spawn_housekeeping(sonde.clone());
    sonde.spawn_workflow_worker();
    sonde.spawn_discover_worker();
    sonde.spawn_discover_scheduler();
    match sonde.mailer() {
        Some(m) => {
            tracing::info!(host = %m.settings.host, port = m.settings.port, "sending distributions by SMTP");
        }
        None => tracing::info!(
            "no SONDE_SMTP_URL: email distributions are kept and wait until a mail server is configured"
        ),
    }
    match sonde.sms() {
        Some(g) => tracing::info!(
            api = %g.settings.api_url,
            account = %g.settings.account_sid,
            "sending SMS distributions through the Twilio Messages API"
        ),
        None => tracing::info!(
            "no SONDE_TWILIO_ACCOUNT_SID: SMS distributions are kept and wait until an SMS gateway is configured"
        ),
    }
    // One worker for both channels: each claims only the jobs of a transport it has.
    if sonde.mailer().is_some() || sonde.sms().is_some() {
        sonde.spawn_distribution_worker();
    }
    let app = web::app(web::AppState::new(sonde).with_outbox(outbox));
    tracing::info!(%addr, "sonde listening");
    if let Some(tx) = ready {
        let _ = tx.send(addr);
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

/// Ctrl-C, or SIGTERM (what `kill`, systemd and container runtimes send): finish the requests
/// in flight, then stop.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Periodic work every node may do safely at once (each step is a single atomic update).
fn spawn_housekeeping(sonde: Sonde) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
        loop {
            tick.tick().await;
            if let Err(e) = sonde.close_abandoned_responses().await {
                tracing::warn!(error = %e, "closing abandoned responses failed");
            }
            if let Err(e) = sonde.forget_stale_credentials().await {
                tracing::warn!(error = %e, "forgetting expired sessions and sign-in failures failed");
            }
        }
    });
}

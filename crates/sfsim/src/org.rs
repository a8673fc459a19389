//! The running org's shared state: data, sessions, clock, API pool, faults, query cursors,
//! bulk jobs and outbound messages, plus snapshots to the state directory.

use crate::bulk::BulkJob;
use crate::clock::Clock;
use crate::faults::Faults;
use crate::ids::Id;
use crate::limits::Limits;
use crate::oauth::Auth;
use crate::outbound::Outbound;
use crate::query::Cursor;
use crate::store::{Ctx, Store};
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// API versions the org answers to, oldest first.
pub const MIN_VERSION: u32 = 20;
pub const MAX_VERSION: u32 = 62;

/// Settings fixed at start.
#[derive(Clone, Debug)]
pub struct Config {
    pub instance_url: String,
    pub login_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    pub rotate_refresh_tokens: bool,
    /// Session lifetime in org milliseconds (2 h like a default org).
    pub session_ms: i64,
    pub state_dir: Option<PathBuf>,
    /// The connected app's certificate public key (PEM) for verifying JWT bearer assertions.
    pub jwt_public_key: Option<String>,
}

pub struct OrgState {
    pub config: Config,
    /// Fixed for the org's life; kept outside the store lock so no path reads it re-entrantly.
    org: Id,
    pub store: RwLock<Store>,
    pub auth: Mutex<Auth>,
    pub clock: Clock,
    pub limits: Limits,
    pub faults: Mutex<Faults>,
    pub cursors: Mutex<HashMap<String, Cursor>>,
    pub jobs: Mutex<HashMap<String, BulkJob>>,
    /// Rows per Bulk 2.0 results page when the client sends no `maxRecords` (Salesforce picks
    /// its own default; `/_sim/bulk` lowers it so small data sets page too).
    pub bulk_page_size: AtomicUsize,
    pub outbound: Outbound,
    /// The Canvas app the record pages host (`canvas`); changed at run time by `/_sim/canvas`.
    pub canvas: Mutex<crate::canvas::CanvasSettings>,
    dirty: AtomicBool,
}

/// The signed-in caller of an API request.
#[derive(Clone, Debug)]
pub struct Session {
    pub user: Id,
    pub token: String,
    pub ctx_profile: Option<crate::metadata::Profile>,
}

impl OrgState {
    pub fn new(
        config: Config,
        store: Store,
        auth: Auth,
        clock: Clock,
        daily_limit: u64,
    ) -> OrgState {
        OrgState {
            config,
            org: store.org_id,
            store: RwLock::new(store),
            auth: Mutex::new(auth),
            clock,
            limits: Limits::new(daily_limit),
            faults: Mutex::new(Faults::default()),
            cursors: Mutex::new(HashMap::new()),
            jobs: Mutex::new(HashMap::new()),
            bulk_page_size: AtomicUsize::new(crate::bulk::DEFAULT_PAGE_SIZE),
            outbound: Outbound::default(),
            canvas: Mutex::new(crate::canvas::CanvasSettings::default()),
            dirty: AtomicBool::new(false),
        }
    }

    pub fn instance_url(&self) -> &str {
        &self.config.instance_url
    }

    pub fn login_url(&self) -> &str {
        &self.config.login_url
    }

    pub fn org_id(&self) -> Id {
        self.org
    }

    pub fn latest_version(&self) -> String {
        format!("{MAX_VERSION}.0")
    }

    pub fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::Relaxed);
    }

    pub fn take_dirty(&self) -> bool {
        self.dirty.swap(false, Ordering::Relaxed)
    }

    /// The write context for a session at the current org time.
    pub fn ctx(&self, s: &Session) -> Ctx {
        Ctx {
            now: self.clock.now_ms(),
            user: s.user,
            profile: s.ctx_profile.clone(),
        }
    }

    /// Writes the data and sessions to the state directory (atomically, via a rename).
    pub fn snapshot(&self) -> anyhow::Result<()> {
        let Some(dir) = &self.config.state_dir else {
            return Ok(());
        };
        create_private_dir(dir)?;
        let data = {
            let store = self.store.read();
            serde_json::to_vec(&*store)?
        };
        let auth = {
            let auth = self.auth.lock();
            serde_json::to_vec(&*auth)?
        };
        let rules = serde_json::to_vec(&self.outbound.rules())?;
        let sender = serde_json::to_vec(&self.outbound.sender_state())?;
        let canvas = serde_json::to_vec(&*self.canvas.lock())?;
        for (name, bytes) in [
            ("org.json", data),
            ("auth.json", auth),
            ("outbound-rules.json", rules),
            ("outbound-pending.json", sender),
            ("canvas.json", canvas),
        ] {
            let tmp = dir.join(format!("{name}.tmp"));
            write_private(&tmp, &bytes)?;
            std::fs::rename(&tmp, dir.join(name))?;
        }
        Ok(())
    }
}

/// The state directory holds the connected app's secret and live sessions: its owner's only
/// (0700), whatever the umask.
pub(crate) fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Writes a state file readable by its owner only (0600).
pub(crate) fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    // The mode above applies only to a new file; an existing one is restricted here.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    std::io::Write::write_all(&mut f, bytes)
}

/// What a snapshot holds.
pub struct Snapshot {
    pub store: Store,
    pub auth: Auth,
    pub rules: Vec<crate::outbound::Rule>,
    /// Absent in snapshots written before the sender's queue was kept.
    pub sender: Option<crate::outbound::SenderState>,
}

/// Loads a snapshot written by [`OrgState::snapshot`], if there is one.
pub fn load_snapshot(dir: &std::path::Path) -> anyhow::Result<Option<Snapshot>> {
    let data = dir.join("org.json");
    if !data.exists() {
        return Ok(None);
    }
    let mut store: Store = serde_json::from_slice(&std::fs::read(&data)?)?;
    store.reindex();
    let auth = match std::fs::read(dir.join("auth.json")) {
        Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
        Err(_) => Auth::default(),
    };
    let rules = match std::fs::read(dir.join("outbound-rules.json")) {
        Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let sender = match std::fs::read(dir.join("outbound-pending.json")) {
        Ok(b) => Some(serde_json::from_slice(&b)?),
        Err(_) => None,
    };
    Ok(Some(Snapshot {
        store,
        auth,
        rules,
        sender,
    }))
}

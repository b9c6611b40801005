//! The webhook store: the subscriptions `cakemock webhooks`, `trigger`, `run` and
//! `serve` share. One JSON file (`webhooks.json`) under `$CAKEMOCK_HOME`, else
//! `$XDG_DATA_HOME/cakemock`, else `~/.local/share/cakemock`; mode 0600; every change
//! is a read-modify-write under an exclusive lock on a sibling lock file, written to a
//! temporary file, fsynced and renamed over the old one, so readers never see half a
//! file and concurrent writers (CLI commands, a running `serve`) lose nothing.

mod limit;
mod subs;
mod webhook;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::InputError;
pub use limit::{RateGate, Window};
pub use subs::{Bodies, Edit, Subscriber, Subscriptions, targets_for};
pub use webhook::{
    DEFAULT_RATE_LIMIT, FIRST_ID, MAX_URL, NewWebhook, Period, Status, Webhook, WebhookPatch,
    check_url, parse_events,
};

/// The store file's name inside the cakemock home.
pub const FILE_NAME: &str = "webhooks.json";
/// The format version written in the file; another version is refused, not guessed at.
const VERSION: u32 = 1;

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Doc {
    pub version: u32,
    /// The id the next webhook gets (ids are never reused, even after a delete).
    pub next_id: u64,
    pub webhooks: Vec<Webhook>,
}

impl Default for Doc {
    fn default() -> Self {
        Doc {
            version: VERSION,
            next_id: FIRST_ID,
            webhooks: Vec::new(),
        }
    }
}

impl Doc {
    pub fn get(&self, id: &str) -> Option<&Webhook> {
        self.webhooks.iter().find(|w| w.id == id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Webhook> {
        self.webhooks.iter_mut().find(|w| w.id == id)
    }

    /// The webhook with this id, or an input error that lists the ids there are.
    pub fn find(&self, id: &str) -> Result<&Webhook, InputError> {
        self.get(id).ok_or_else(|| self.unknown(id))
    }

    pub fn find_mut(&mut self, id: &str) -> Result<&mut Webhook, InputError> {
        let err = self.unknown(id);
        self.get_mut(id).ok_or(err)
    }

    fn unknown(&self, id: &str) -> InputError {
        let ids: Vec<&str> = self.webhooks.iter().map(|w| w.id.as_str()).collect();
        let known = if ids.is_empty() {
            "there are no webhooks yet; create one with `cakemock webhooks create -u URL -e EVENTS`"
                .to_string()
        } else {
            format!("known ids: {}", ids.join(", "))
        };
        InputError::new(format!("no webhook with id {id:?}; {known}"))
    }

    /// Adds a webhook with the next id and returns it.
    pub fn insert(&mut self, new: NewWebhook, now: i64) -> &Webhook {
        let id = self.next_id.to_string();
        self.next_id += 1;
        self.webhooks.push(new.into_webhook(id, now));
        let last = self.webhooks.len() - 1;
        &self.webhooks[last]
    }

    /// Archives (or unarchives) webhook `id`; true when its status changed.
    pub fn set_archived(&mut self, id: &str, archived: bool, now: i64) -> Result<bool, InputError> {
        let w = self.find_mut(id)?;
        let before = w.status;
        w.set_archived(archived, now);
        Ok(w.status != before)
    }

    /// True when any active webhook exists (fan-out replaces the embedded receiver).
    pub fn has_active(&self) -> bool {
        self.webhooks.iter().any(|w| w.status == Status::Active)
    }
}

/// A handle on the store file. Cheap to clone; every call goes to the file, so a
/// running `serve` and CLI commands see each other's changes at once.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
}

impl Store {
    /// The store in the directory `$CAKEMOCK_HOME`, else `$XDG_DATA_HOME/cakemock`,
    /// else `~/.local/share/cakemock`.
    pub fn from_env() -> Result<Store> {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let dir = var("CAKEMOCK_HOME")
            .or_else(|| var("XDG_DATA_HOME").map(|d| d.join("cakemock")))
            .or_else(|| var("HOME").map(|h| h.join(".local/share/cakemock")))
            .ok_or_else(|| {
                InputError::new(
                    "cannot tell where to keep webhooks: set CAKEMOCK_HOME to a directory \
                     (HOME and XDG_DATA_HOME are unset)",
                )
            })?;
        Ok(Store::in_dir(dir))
    }

    /// The store in directory `dir` (created on first write).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Store {
        Store {
            path: dir.into().join(FILE_NAME),
        }
    }

    /// The store file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// The current contents; an absent file is an empty store (nothing is created).
    /// No lock is needed: the file is only ever replaced whole, by rename.
    pub fn load(&self) -> Result<Doc> {
        let text = match std::fs::read(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Doc::default()),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", self.path.display()));
            }
        };
        let doc: Doc = serde_json::from_slice(&text).with_context(|| {
            format!(
                "{} is not a cakemock webhook store ({}); fix or remove it",
                self.path.display(),
                "expected {\"version\":1,\"next_id\":...,\"webhooks\":[...]}"
            )
        })?;
        if doc.version != VERSION {
            anyhow::bail!(
                "{} has format version {}, this cakemock reads version {VERSION}; \
                 use the cakemock that wrote it, or move the file away",
                self.path.display(),
                doc.version
            );
        }
        Ok(doc)
    }

    /// Reads, applies `change`, and writes the result back, all under the store's
    /// exclusive lock. When `change` fails nothing is written.
    pub fn update<T>(&self, change: impl FnOnce(&mut Doc) -> Result<T>) -> Result<T> {
        create_private_dir(self.dir())?;
        let _lock = Lock::acquire(&self.lock_path())?;
        let mut doc = self.load()?;
        let out = change(&mut doc)?;
        self.write(&doc)?;
        Ok(out)
    }

    fn lock_path(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Temporary file in the same directory (so the rename is atomic), 0600, fsynced,
    /// renamed over the store, then the directory fsynced so the rename itself lasts.
    fn write(&self, doc: &Doc) -> Result<()> {
        let dir = self.dir();
        let bytes = serde_json::to_vec_pretty(doc).context("cannot encode the webhook store")?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".webhooks.")
            .suffix(".tmp")
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
        set_private(tmp.as_file())?;
        tmp.write_all(&bytes)
            .and_then(|()| tmp.write_all(b"\n"))
            .and_then(|()| tmp.as_file().sync_all())
            .with_context(|| format!("cannot write the webhook store in {}", dir.display()))?;
        tmp.persist(&self.path)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot replace {}", self.path.display()))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// An exclusive advisory lock, released when dropped (or when the process dies).
struct Lock(File);

impl Lock {
    fn acquire(path: &Path) -> Result<Lock> {
        let mut opts = OpenOptions::new();
        opts.create(true).truncate(false).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let file = opts
            .open(path)
            .with_context(|| format!("cannot open the lock file {}", path.display()))?;
        file.lock()
            .with_context(|| format!("cannot lock {}", path.display()))?;
        Ok(Lock(file))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
        .with_context(|| format!("cannot create the cakemock home {}", dir.display()))
}

fn set_private(file: &File) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .context("cannot make the webhook store private (mode 0600)")?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Flavor;
    use crate::sign::Secret;

    fn new(url: &str) -> NewWebhook {
        NewWebhook {
            name: None,
            url: url.into(),
            events: vec!["email.sent".into()],
            flavor: Flavor::Docs,
            secret: Secret::new("s"),
            rate_limit: 50,
            rate_limit_period: Period::Second,
        }
    }

    #[test]
    fn absent_store_is_empty_and_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::in_dir(dir.path().join("home"));
        assert!(store.load().unwrap().webhooks.is_empty());
        assert!(!dir.path().join("home").exists());
    }

    #[test]
    fn writes_are_private_and_ids_start_at_123() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::in_dir(dir.path());
        let id = store
            .update(|d| Ok(d.insert(new("http://a/"), 1).id.clone()))
            .unwrap();
        assert_eq!(id, "123");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = store.load().unwrap();
        assert_eq!(again.webhooks[0].url, "http://a/");
        assert_eq!(again.next_id, 124);
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::in_dir(dir.path());
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let s = store.clone();
                std::thread::spawn(move || {
                    s.update(|d| Ok(d.insert(new(&format!("http://h/{i}")), 1).id.clone()))
                        .unwrap()
                })
            })
            .collect();
        let mut ids: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 16);
        assert_eq!(store.load().unwrap().webhooks.len(), 16);
    }

    #[test]
    fn a_failed_change_writes_nothing_and_corrupt_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::in_dir(dir.path());
        let r: Result<()> = store.update(|d| {
            d.insert(new("http://a/"), 1);
            anyhow::bail!("no")
        });
        assert!(r.is_err());
        assert!(store.load().unwrap().webhooks.is_empty());
        std::fs::write(store.path(), b"{oops").unwrap();
        let e = format!("{:#}", store.load().unwrap_err());
        assert!(
            e.contains("webhooks.json") && e.contains("fix or remove"),
            "{e}"
        );
    }
}

//! Persistence: everything the server writes to a database, and reads back from it. The
//! inventory, its schema (`migrations`), the batched writes (`writes`), the admin API's
//! reads (`device_reads`, `history_reads`, `release_reads`, `serial_reads`) and the
//! rollout watch's SQL (`rollout_sql`, and `stage_sql` for stages that advance themselves)
//! and the rollout projection's counts (`projection_reads`), over one small database
//! interface (`db`, its
//! errors in `db_error`, its rows read by column name in `row`, their values in `value`,
//! its statements prepared once per connection in `prepared`); the history's kinds are
//! `history_kind`; the audit trail's records are `audit_sql`.
//! May use `observe`, `catalog`, `config` and `model`; never a listener or `app_state`.
//!
//! Fleet memory: a persistent inventory of registers (by client address), what each was
//! offered and did with it, the serials asked for, and the history of releases, in SQLite
//! (the default, a file next to `server.yaml`) or PostgreSQL (several instances sharing one
//! view).
//!
//! Never on the request path: a handler pushes an `Event` into a bounded inbox and answers
//! the device; a writer thread takes the inbox every 50 ms (on a fixed beat, not 50 ms
//! after the last write ended) and writes it in one transaction, so that a record is
//! committed 50 ms after its answer plus the time of one write: within 200 ms while the
//! store keeps up, and that is what `kill -9` can lose. A full inbox drops and counts. One
//! address (an IPv6 /64) may queue at most `PER_ADDRESS` records between two takes: its
//! excess is dropped and counted as `limited`, so that a device in a loop (or an attacker)
//! never fills the inbox that every other device shares. When the store cannot be written
//! (the disk full, the database down), devices are answered exactly as before: the problem
//! is logged once and shown on `/status`, the batch is kept (up to the inbox's size) and
//! retried, and writing resumes when the store is back.

pub mod audit_events;
pub mod audit_sql;
pub mod db;
pub mod db_error;
pub mod device_detail_reads;
pub mod device_reads;
pub mod event;
pub mod group_tags;
pub mod history_kind;
pub mod history_reads;
pub mod migrations;
pub mod outcome;
pub mod postgres_tls;
pub mod prepared;
pub mod projection_reads;
pub mod release_events;
pub mod release_reads;
pub mod rollout_sql;
pub mod row;
pub mod serial_reads;
pub mod stage_sql;
pub mod value;
pub mod writes;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;

use crate::audit::{AuditEntry, AuditRecord};
use crate::config::InventorySetting;
use crate::groups::Groups;
use crate::model::lang::fill;
use crate::observe::writer_thread::join_within;
use crate::platform::lock_recover::{CondvarRecover, LockRecover};
pub use audit_sql::AuditHead;
use db::{Db, Postgres, Sqlite};
pub use event::Event;
pub use history_kind::HistoryKind;

/// Events that may wait for the writer; past this they are dropped and counted.
const QUEUE: usize = 100_000;
/// The writer takes the inbox this often while events come in: a record waits at most this
/// long, and is committed by the end of the next write (while the store keeps up, a few
/// milliseconds: a write takes about as long as the records of one beat take to write),
/// hence README's "kill -9 loses at most the last 200 ms", with room for a slow write.
const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// Audit records kept waiting while the trail cannot be appended to; past this the oldest
/// are dropped (counted as `dropped`, and logged).
const AUDIT_WAITING_MAX: usize = 10_000;
/// Records one address may queue between two takes (at most 1,280 a second; fewer while
/// writes take longer than the beat): a shop's registers behind one NAT address ask a few
/// times a minute each; past this the address's records are dropped and counted as
/// `limited`, never another device's. Admissions are exempt (the server decides them, at
/// most one per release).
pub const PER_ADDRESS: u32 = 64;
/// Events written in one transaction at most: a backlog (after the store was down) is
/// written in several, each committed, so that a kill during it loses one of them only.
const TRANSACTION_AT_MOST: usize = 5_000;
/// A store that failed is tried again this often.
const RETRY_EVERY: Duration = Duration::from_secs(2);
/// Old rows are pruned this often.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The inventory's settings, from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub store: InventorySetting,
    /// Seconds after a whole download with no new build date reported: stuck.
    pub stuck_after: u64,
    /// Days of history, downloads and unseen devices kept.
    pub retention_days: u64,
}

/// What `/status` says of the inventory.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InventoryStatus {
    /// `sqlite:<path>`, `postgres://<host>/<db>` (no password) or `off`.
    pub store: String,
    pub ok: bool,
    /// Why writes fail, while they do.
    pub error: Option<String>,
    pub written: u64,
    /// Records lost because the inbox was full (the store down or too slow): anyone's.
    pub dropped: u64,
    /// Records not kept because their address sent more than `PER_ADDRESS` between two
    /// takes of the writer (50 ms): that address's only.
    pub limited: u64,
    /// Records waiting to be written: in the inbox, and taken by the writer but not yet
    /// written (a store that is down or behind keeps them there, up to `QUEUE`).
    pub waiting: u64,
    /// The audit trail's newest record (seq and hash), as this process last wrote or read
    /// it: what `audit verify --head` checks against.
    pub audit_head: Option<AuditHead>,
}

#[derive(Default)]
struct Inbox {
    events: Vec<Event>,
    /// Events queued per address since the writer last took the inbox (at most `QUEUE`
    /// entries; the writer swaps in an empty map, keeping both allocations).
    per_address: HashMap<IpAddr, u32>,
    close: bool,
}

struct Shared {
    inbox: Mutex<Inbox>,
    wake: Condvar,
    written: AtomicU64,
    dropped: AtomicU64,
    limited: AtomicU64,
    /// Records the writer took from the inbox and has not written yet (the devices' and the
    /// audit trail's): set under the inbox's lock as it takes them, so that `waiting`
    /// never misses a record on its way from the inbox to the store.
    taken: AtomicU64,
    error: Mutex<Option<String>>,
    /// The audit trail's newest record, as last appended or read by the writer.
    audit_head: Mutex<Option<AuditHead>>,
    /// This process's name in the admissions it writes.
    instance: Box<str>,
    /// The device groups devices are tagged with (`group_tags`), as the snapshot serving
    /// holds them; none until the first snapshot hands them over.
    groups: arc_swap::ArcSwapOption<Groups>,
}

/// The handle handlers, reloads and the admin API hold.
pub struct Inventory {
    settings: Settings,
    shared: Arc<Shared>,
    writer: Mutex<Option<JoinHandle<()>>>,
    /// A connection for the admin API's reads, opened on first use.
    reader: Mutex<Option<Box<dyn Db>>>,
}

/// A name no other process sharing the store has: the process id and a random number
/// (std's `RandomState` keys are drawn from the operating system's randomness).
fn instance_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{}-{random:016x}", std::process::id())
}

/// Why the inventory cannot be read, before any database is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// `inventory: off`: there is no store.
    Off,
    /// The thread reading it stopped before answering.
    ReaderStopped,
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unavailable::Off => "the inventory is off (inventory: off in server.yaml)",
            Unavailable::ReaderStopped => "the inventory reader failed",
        })
    }
}

impl std::error::Error for Unavailable {}

/// Opens the store named by `setting` and brings its schema up to date.
pub fn open_store(setting: &InventorySetting) -> Result<Box<dyn Db>> {
    let mut db: Box<dyn Db> = match setting {
        InventorySetting::Sqlite(path) => Box::new(Sqlite::open(path)?),
        InventorySetting::Postgres(setting) => Box::new(Postgres::connect(setting)?),
        InventorySetting::Off => return Err(Unavailable::Off.into()),
    };
    migrations::migrate(db.as_mut())?;
    Ok(db)
}

impl Inventory {
    /// Starts the writer, which opens (and migrates) the store on its own thread: the
    /// PostgreSQL client runs a runtime of its own, which cannot start inside the server's.
    /// A store that cannot be opened is logged; the server runs on regardless, and the
    /// writer keeps trying.
    pub fn start(settings: Settings) -> Inventory {
        let shared = Arc::new(Shared::new());
        let inventory = Inventory {
            settings: settings.clone(),
            shared: shared.clone(),
            writer: Mutex::new(None),
            reader: Mutex::new(None),
        };
        if settings.store == InventorySetting::Off {
            return inventory;
        }
        let thread_settings = settings;
        let handle = std::thread::Builder::new()
            .name("inventory".into())
            .spawn(move || {
                let first = match open_store(&thread_settings.store) {
                    Ok(mut db) => {
                        read_audit_head(&shared, db.as_mut());
                        Some(db)
                    }
                    Err(e) => {
                        note_error(&shared, &thread_settings.store, format!("{e:#}"));
                        None
                    }
                };
                write_loop(&shared, &thread_settings, first)
            });
        match handle {
            Ok(handle) => *inventory.writer.lock_recover() = Some(handle),
            Err(e) => log::error!("{}", fill(words().writer_not_started, &[("why", &e)])),
        }
        inventory
    }

    /// This process's name in the store: the rollout watch reads back only the admissions
    /// other instances wrote.
    pub fn instance(&self) -> &str {
        &self.shared.instance
    }

    /// An inventory that keeps nothing (`inventory: off`, `check`, tests).
    pub fn off() -> Inventory {
        Inventory::start(Settings {
            store: InventorySetting::Off,
            stuck_after: 0,
            retention_days: 0,
        })
    }

    pub fn is_on(&self) -> bool {
        self.settings.store != InventorySetting::Off
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Hands an event to the writer; never waits for it.
    pub fn record(&self, event: Event) {
        if !self.is_on() {
            return;
        }
        self.shared.push(event);
    }

    /// Records an operator's action or the server's decision in the audit trail: handed to
    /// the writer (never waits, never fails the caller), dated now, chained and appended in
    /// the writer's next transaction; the server then logs the new head. Nothing is kept
    /// with `inventory: off`. For example, an admin endpoint after a withdraw:
    ///
    /// ```ignore
    /// state.inventory.audit(AuditEntry::new(&operator.name, Action::Withdraw, "C.3/20250301", "withdrawn"));
    /// ```
    pub fn audit(&self, entry: AuditEntry) {
        self.record(Event::Audit {
            at: crate::model::clock::unix_now(),
            entry,
            once: false,
        });
    }

    /// The same for a change seen on disk: every instance sharing the store sees it, and
    /// the store records it once (`audit_sql::SAME_CHANGE_WITHIN`).
    pub fn audit_seen_on_disk(&self, entry: AuditEntry) {
        self.record(Event::Audit {
            at: crate::model::clock::unix_now(),
            entry,
            once: true,
        });
    }

    /// From now on devices are tagged with `groups` (the snapshot serving changed): the
    /// writer tags every stored device again, a chunk per beat, when they differ from the
    /// groups it tagged with last. Never waits.
    pub fn set_groups(&self, groups: Arc<Groups>) {
        let same = self
            .shared
            .groups
            .load()
            .as_ref()
            .is_some_and(|now| Arc::ptr_eq(now, &groups));
        if !same {
            self.shared.groups.store(Some(groups));
        }
    }

    /// The audit trail's newest record, as this process last appended or read it.
    pub fn audit_head(&self) -> Option<AuditHead> {
        self.shared.audit_head.lock_recover().clone()
    }

    pub fn status(&self) -> InventoryStatus {
        let error = self.shared.error.lock_recover().clone();
        InventoryStatus {
            store: self.settings.store.to_string(),
            ok: error.is_none(),
            error,
            written: self.shared.written.load(Ordering::Relaxed),
            dropped: self.shared.dropped.load(Ordering::Relaxed),
            limited: self.shared.limited.load(Ordering::Relaxed),
            waiting: {
                let inbox = self.shared.inbox.lock_recover();
                inbox.events.len() as u64 + self.shared.taken.load(Ordering::Relaxed)
            },
            audit_head: self.audit_head(),
        }
    }

    /// Runs `read` on the reader connection. Blocking, and never on an async worker (the
    /// PostgreSQL client would start a runtime inside the server's): use `web::block`, or
    /// `read_blocking` from start-up.
    /// An `Unavailable` error when the inventory is off.
    pub fn read<T>(&self, read: impl FnOnce(&mut dyn Db) -> Result<T>) -> Result<T> {
        if !self.is_on() {
            return Err(Unavailable::Off.into());
        }
        let mut reader = self.reader.lock_recover();
        let db = match reader.as_mut() {
            Some(db) => db,
            None => reader.insert(open_store(&self.settings.store)?),
        };
        let result = read(db.as_mut());
        if result.is_err() {
            // A broken connection is opened anew next time.
            *reader = None;
        }
        result
    }

    /// `read` on a thread of its own, waited for: for start-up, which runs on the server's
    /// runtime thread.
    pub fn read_blocking<T: Send>(
        &self,
        read: impl FnOnce(&mut dyn Db) -> Result<T> + Send,
    ) -> Result<T> {
        std::thread::scope(|scope| {
            scope
                .spawn(|| self.read(read))
                .join()
                .unwrap_or_else(|_| Err(Unavailable::ReaderStopped.into()))
        })
    }

    /// Writes everything queued and stops the writer (at most `timeout`).
    pub fn close(&self, timeout: Duration) {
        self.shared.inbox.lock_recover().close = true;
        self.shared.wake.notify_all();
        if !join_within(&self.writer, timeout) {
            log::warn!("{}", words().writer_late);
        }
    }
}

/// How long dropping the inventory waits for its reader's connection to close.
const READER_CLOSE_WITHIN: Duration = Duration::from_secs(2);

impl Drop for Inventory {
    /// The reader's connection is closed on a plain thread, waited for at most
    /// `READER_CLOSE_WITHIN`: the last handle on the inventory goes inside the server's
    /// runtime (at the end of `serve`), and a PostgreSQL client closes by running a runtime
    /// of its own, which cannot start there (the process ended by a panic, after its
    /// "stopped" line, instead of status 0). A thread that cannot be started leaves the
    /// connection unclosed (its socket goes with the process) rather than panic.
    fn drop(&mut self) {
        let reader = self
            .reader
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let Some(reader) = reader else {
            return;
        };
        let (give, closer) = std::sync::mpsc::channel::<Box<dyn Db>>();
        let thread = std::thread::Builder::new()
            .name("inventory-reader-close".into())
            .spawn(move || drop(closer.recv()));
        match thread {
            Ok(handle) => {
                if let Err(std::sync::mpsc::SendError(reader)) = give.send(reader) {
                    std::mem::forget(reader);
                }
                join_within(&Mutex::new(Some(handle)), READER_CLOSE_WITHIN);
            }
            Err(_) => std::mem::forget(reader),
        }
    }
}

impl Shared {
    fn new() -> Shared {
        Shared {
            inbox: Mutex::new(Inbox::default()),
            wake: Condvar::new(),
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            limited: AtomicU64::new(0),
            taken: AtomicU64::new(0),
            error: Mutex::new(None),
            audit_head: Mutex::new(None),
            instance: instance_name().into(),
            groups: arc_swap::ArcSwapOption::empty(),
        }
    }

    /// Queues `event` unless the inbox is full or its address has queued its share.
    fn push(&self, event: Event) {
        let mut inbox = self.inbox.lock_recover();
        if inbox.events.len() >= QUEUE || inbox.close {
            drop(inbox);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if let Some(address) = event.limited_address() {
            let queued = inbox.per_address.entry(share_key(address)).or_insert(0);
            if *queued >= PER_ADDRESS {
                drop(inbox);
                self.limited.fetch_add(1, Ordering::Relaxed);
                return;
            }
            *queued += 1;
        }
        inbox.events.push(event);
    }

    /// Moves the inbox's records to `pending` and gives every address a fresh share (the
    /// counts so far go to `spare_counts`, for the caller to clear outside the lock).
    fn take(
        &self,
        inbox: &mut Inbox,
        pending: &mut Vec<Event>,
        spare_counts: &mut HashMap<IpAddr, u32>,
    ) {
        std::mem::swap(spare_counts, &mut inbox.per_address);
        if pending.is_empty() {
            std::mem::swap(pending, &mut inbox.events);
        } else {
            // Kept from a failed write: the oldest go first when over the limit.
            pending.append(&mut inbox.events);
            if pending.len() > QUEUE {
                let over = pending.len() - QUEUE;
                pending.drain(..over);
                self.dropped.fetch_add(over as u64, Ordering::Relaxed);
            }
        }
    }
}

/// Whose share a record counts against: an IPv4 address (also written as IPv4-mapped
/// IPv6), or an IPv6 client's /64, one subscriber's network, so that a host taking a new
/// address for every request still has one share.
fn share_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
        v4 => v4,
    }
}

/// The writer thread: takes the inbox on its beat, (re)opens the store when due, writes
/// what is pending, prunes hourly, and at the close writes what it can and returns.
fn write_loop(shared: &Shared, settings: &Settings, first: Option<Box<dyn Db>>) {
    let mut writer = Writer {
        shared,
        settings,
        db: first,
        pending: Vec::new(),
        audit: Vec::new(),
        audit_error: None,
        spare_counts: HashMap::new(),
        last_attempt: Instant::now(),
        last_prune: None,
        next_take: Instant::now() + FLUSH_EVERY,
        tagged: None,
        retag: None,
    };
    loop {
        let close = writer.take();
        writer.open_when_due(close);
        writer.write_pending();
        writer.append_audit();
        writer.retag_step();
        writer.prune_when_due();
        writer.note_taken();
        if close {
            if !writer.pending.is_empty() || !writer.audit.is_empty() {
                log::warn!(
                    "{}",
                    fill(
                        words().records_lost,
                        &[("count", &(writer.pending.len() + writer.audit.len()))]
                    )
                );
            }
            return;
        }
    }
}

/// What the writer thread keeps from one beat to the next.
struct Writer<'a> {
    shared: &'a Shared,
    settings: &'a Settings,
    /// None while the store cannot be opened, or after a write failed.
    db: Option<Box<dyn Db>>,
    /// Taken from the inbox, not yet written.
    pending: Vec<Event>,
    /// Audit records taken from the inbox, not yet appended (in their own transaction).
    audit: Vec<Event>,
    /// Why the trail cannot be appended to, while it cannot (logged once).
    audit_error: Option<String>,
    spare_counts: HashMap<IpAddr, u32>,
    last_attempt: Instant,
    last_prune: Option<Instant>,
    next_take: Instant,
    /// The groups every stored device was last tagged with (none: not yet since start).
    tagged: Option<Arc<Groups>>,
    /// A retag under way: the groups, and the last address done.
    retag: Option<(Arc<Groups>, String)>,
}

impl Writer<'_> {
    /// Waits for the next beat (or the close), takes the inbox; whether it is closing.
    fn take(&mut self) -> bool {
        let shared = self.shared;
        let close = {
            let mut inbox = shared.inbox.lock_recover();
            // The beat is kept from take to take, not from the end of a write: a write
            // that took 80 ms is followed by a take 20 ms later. A write longer than the
            // beat (the store falling behind) is followed by a take at once.
            loop {
                let now = Instant::now();
                if inbox.close || now >= self.next_take {
                    break;
                }
                inbox = shared
                    .wake
                    .wait_timeout_recover(inbox, self.next_take - now);
            }
            self.next_take = Instant::now() + FLUSH_EVERY;
            shared.take(&mut inbox, &mut self.pending, &mut self.spare_counts);
            self.note_taken();
            inbox.close
        };
        if self
            .pending
            .iter()
            .any(|e| matches!(e, Event::Audit { .. }))
        {
            let (audit, rest): (Vec<Event>, Vec<Event>) = std::mem::take(&mut self.pending)
                .into_iter()
                .partition(|e| matches!(e, Event::Audit { .. }));
            self.pending = rest;
            self.audit.extend(audit);
            if self.audit.len() > AUDIT_WAITING_MAX {
                let over = self.audit.len() - AUDIT_WAITING_MAX;
                self.audit.drain(..over);
                shared.dropped.fetch_add(over as u64, Ordering::Relaxed);
            }
        }
        // Cleared outside the lock: the request path never waits for it. (Clearing sweeps
        // the whole allocation, which a burst of addresses may have made large: not when
        // there is nothing to clear, 20 times a second while idle.)
        if !self.spare_counts.is_empty() {
            self.spare_counts.clear();
        }
        close
    }

    /// Tells `waiting` how many records the writer holds, not yet written.
    fn note_taken(&self) {
        let held = self.pending.len() + self.audit.len();
        self.shared.taken.store(held as u64, Ordering::Relaxed);
    }

    /// Opens the store when it is not open and a retry is due (at once when closing).
    fn open_when_due(&mut self, close: bool) {
        if self.db.is_none() && (close || self.last_attempt.elapsed() >= RETRY_EVERY) {
            self.last_attempt = Instant::now();
            match open_store(&self.settings.store) {
                Ok(mut opened) => {
                    read_audit_head(self.shared, opened.as_mut());
                    self.db = Some(opened);
                }
                Err(e) => note_error(self.shared, &self.settings.store, format!("{e:#}")),
            }
        }
    }

    /// Writes what is pending, `TRANSACTION_AT_MOST` events per transaction; a failed
    /// transaction keeps its events and the rest for the next try.
    fn write_pending(&mut self) {
        let Some(store) = self.db.as_mut() else {
            return;
        };
        let (shared, settings) = (self.shared, self.settings);
        let groups = shared.groups.load_full();
        let mut done = 0;
        for chunk in self.pending.chunks(TRANSACTION_AT_MOST) {
            match writes::write_tagged(store.as_mut(), chunk, &shared.instance, groups.as_deref()) {
                Ok(()) => {
                    done += chunk.len();
                    shared
                        .written
                        .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    clear_error(shared, &settings.store);
                }
                Err(e) => {
                    note_error(shared, &settings.store, format!("{e:#}"));
                    // The connection may be broken: open it anew on the next try.
                    self.db = None;
                    self.last_attempt = Instant::now();
                    break;
                }
            }
        }
        self.pending.drain(..done);
    }

    /// Appends the waiting audit records in a transaction of their own; logs each with the
    /// new head. A failure keeps them for the next beat and is logged once, and never holds
    /// back the devices' records.
    fn append_audit(&mut self) {
        let Some(store) = self.db.as_mut() else {
            return;
        };
        if self.audit.is_empty() {
            return;
        }
        match writes::append_audit(store.as_mut(), &self.audit) {
            Ok(appended) => {
                for record in &appended {
                    note_audit_head(self.shared, record);
                }
                self.audit.clear();
                if self.audit_error.take().is_some() {
                    log::info!("{}", fill(words().writing_again, &[("store", &"audit")]));
                }
            }
            Err(e) => {
                let why = format!("{e:#}");
                if self.audit_error.as_ref() != Some(&why) {
                    log::error!(
                        "{}",
                        fill(
                            words().audit_failing,
                            &[("count", &self.audit.len()), ("why", &why)]
                        )
                    );
                    self.audit_error = Some(why);
                }
            }
        }
    }

    /// Tags one more chunk of stored devices with their group, while the groups differ from
    /// those every device was tagged with (they changed, or the server just started): a
    /// change during a retag starts it over with the newest groups. A failed chunk is
    /// tried again on the next beat.
    fn retag_step(&mut self) {
        let Some(store) = self.db.as_mut() else {
            return;
        };
        let Some(now) = self.shared.groups.load_full() else {
            return;
        };
        let current = |groups: &Arc<Groups>| Arc::ptr_eq(groups, &now) || **groups == *now;
        if self
            .retag
            .as_ref()
            .is_some_and(|(groups, _)| !current(groups))
        {
            self.retag = None;
        }
        if self.retag.is_none() {
            if self.tagged.as_ref().is_some_and(current) {
                return;
            }
            self.retag = Some((now, String::new()));
        }
        let Some((groups, after)) = self.retag.as_mut() else {
            return;
        };
        let chunk = db::in_transaction(store.as_mut(), |db| {
            group_tags::retag_after(db, groups, after, group_tags::RETAG_CHUNK)
        });
        match chunk {
            Ok(Some(last)) => *after = last,
            Ok(None) => self.tagged = self.retag.take().map(|(groups, _)| groups),
            Err(e) => {
                note_error(self.shared, &self.settings.store, format!("{e:#}"));
                self.db = None;
                self.last_attempt = Instant::now();
            }
        }
    }

    /// Prunes what is past the retention, once an hour (and first when the store opens).
    fn prune_when_due(&mut self) {
        let Some(store) = self.db.as_mut() else {
            return;
        };
        if self.last_prune.is_some_and(|at| at.elapsed() < PRUNE_EVERY) {
            return;
        }
        self.last_prune = Some(Instant::now());
        let days = self.settings.retention_days;
        let before = crate::model::clock::unix_now().saturating_sub(days.saturating_mul(86_400));
        match writes::prune(store.as_mut(), before) {
            Ok(0) => {}
            Ok(n) => log::info!(
                "{}",
                fill(words().pruned, &[("count", &n), ("days", &days)])
            ),
            Err(e) => log::warn!(
                "{}",
                fill(words().cannot_prune, &[("why", &format!("{e:#}"))])
            ),
        }
        let now = crate::model::clock::unix_now();
        match db::in_transaction(store.as_mut(), |db| audit_sql::prune(db, before, now)) {
            Ok(Some(checkpoint)) => {
                let first = checkpoint.checkpoint().map_or(0, |(first, _)| first);
                log::info!(
                    "{}",
                    fill(
                        words().audit_pruned,
                        &[
                            ("first", &first),
                            ("days", &days),
                            ("seq", &checkpoint.seq),
                            ("hash", &checkpoint.result),
                        ]
                    )
                );
                note_audit_head(self.shared, &checkpoint);
            }
            Ok(None) => {}
            Err(e) => log::warn!(
                "{}",
                fill(words().cannot_prune, &[("why", &format!("{e:#}"))])
            ),
        }
    }
}

/// Reads the trail's head when the store opens (`/status` shows it before any append).
fn read_audit_head(shared: &Shared, db: &mut dyn Db) {
    match audit_sql::head(db) {
        Ok(head) => *shared.audit_head.lock_recover() = head,
        Err(e) => log::warn!(
            "{}",
            fill(
                words().cannot_write,
                &[("store", &"audit"), ("why", &format!("{e:#}"))]
            )
        ),
    }
}

/// Logs a record just appended, with the trail's new head (one line: what an operator
/// keeps to check the trail against later), and shows the head on `/status`.
fn note_audit_head(shared: &Shared, record: &AuditRecord) {
    let head = crate::audit::hash(record);
    log::info!(
        "{}",
        fill(
            words().audit_appended,
            &[
                ("seq", &record.seq),
                ("action", &record.action),
                ("subject", &record.subject),
                ("actor", &record.actor),
                ("result", &record.result),
                ("head", &head),
            ]
        )
    );
    *shared.audit_head.lock_recover() = Some(AuditHead {
        seq: record.seq,
        hash: head,
    });
}

/// The inventory's log words in the operator's language (what `/status` shows of an
/// error stays as the store gave it).
fn words() -> &'static crate::words::watch::WatchText {
    crate::words::Words::of(crate::model::lang::Lang::operator()).watch
}

/// Logs a store error once (again only when it changes) and shows it on `/status`.
fn note_error(shared: &Shared, store: &InventorySetting, message: String) {
    let mut error = shared.error.lock_recover();
    if error.as_deref() != Some(message.as_str()) {
        log::error!(
            "{}",
            fill(words().cannot_write, &[("store", store), ("why", &message)])
        );
        *error = Some(message);
    }
}

fn clear_error(shared: &Shared, store: &InventorySetting) {
    let mut error = shared.error.lock_recover();
    if error.take().is_some() {
        log::info!("{}", fill(words().writing_again, &[("store", store)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serial(address: IpAddr, n: u32) -> Event {
        Event::Serial {
            at: 1,
            address,
            user_agent: "test".into(),
            serial: n.to_string(),
            licensed: false,
        }
    }

    /// One address sending far more than the inbox holds keeps its share between two takes
    /// and no more; another device's record, sent after the flood, is queued, and nothing
    /// is counted as dropped (the inbox never fills).
    #[test]
    fn one_address_cannot_fill_the_inbox() {
        let shared = Shared::new();
        let flooder: IpAddr = "10.0.0.1".parse().expect("address");
        let other: IpAddr = "10.0.0.2".parse().expect("address");
        for n in 0..(QUEUE as u32 + 10) {
            shared.push(serial(flooder, n));
        }
        shared.push(serial(other, 1));
        shared.push(Event::Admitted {
            at: 1,
            address: flooder,
            line: "".into(),
            version: 20250301,
            pilot: false,
        });
        let inbox = shared.inbox.lock_recover();
        let from = |address| {
            inbox
                .events
                .iter()
                .filter(|e| e.limited_address() == Some(address))
                .count()
        };
        assert_eq!(from(flooder), PER_ADDRESS as usize);
        assert_eq!(from(other), 1);
        assert_eq!(
            inbox.events.len(),
            PER_ADDRESS as usize + 2,
            "the admission too"
        );
        assert_eq!(shared.dropped.load(Ordering::Relaxed), 0);
        assert_eq!(
            shared.limited.load(Ordering::Relaxed),
            QUEUE as u64 + 10 - u64::from(PER_ADDRESS)
        );
    }

    /// An IPv6 host rotating through its /64 has one share; an IPv4 client has the same
    /// share whether its address comes plain or IPv4-mapped, and its neighbour its own.
    #[test]
    fn an_ipv6_network_has_one_share_and_mapped_ipv4_is_ipv4() {
        let shared = Shared::new();
        for n in 0..1000u32 {
            let rotating = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 7, 0, 0, n as u16, 1));
            shared.push(serial(rotating, n));
        }
        let same_network = share_key("2001:db8:0:7:ffff::1".parse().expect("address"));
        assert_eq!(
            shared.inbox.lock_recover().per_address[&same_network],
            PER_ADDRESS
        );
        assert_eq!(
            shared.limited.load(Ordering::Relaxed),
            1000 - u64::from(PER_ADDRESS)
        );
        assert_ne!(
            share_key("2001:db8:0:8::1".parse().expect("address")),
            same_network,
            "the next /64 is another network"
        );
        let plain: IpAddr = "10.0.0.1".parse().expect("address");
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().expect("address");
        let neighbour: IpAddr = "::ffff:10.0.0.2".parse().expect("address");
        assert_eq!(share_key(mapped), share_key(plain));
        assert_ne!(share_key(neighbour), share_key(plain));
    }

    /// The share is per take: after the writer takes the inbox, the address may queue
    /// again.
    #[test]
    fn the_share_is_renewed_at_each_take() {
        let shared = Shared::new();
        let address: IpAddr = "10.0.0.1".parse().expect("address");
        for n in 0..PER_ADDRESS * 2 {
            shared.push(serial(address, n));
        }
        let (mut pending, mut spare) = (Vec::new(), HashMap::new());
        shared.take(&mut shared.inbox.lock_recover(), &mut pending, &mut spare);
        assert_eq!(pending.len(), PER_ADDRESS as usize);
        shared.push(serial(address, 0));
        assert_eq!(shared.inbox.lock_recover().events.len(), 1);
    }

    /// Reading an inventory that is off is a typed error, shown in the words it always was.
    #[test]
    fn reading_an_inventory_that_is_off_says_so() {
        let e = Inventory::off().read_blocking(|_| Ok(())).expect_err("off");
        assert_eq!(e.downcast_ref::<Unavailable>(), Some(&Unavailable::Off));
        assert_eq!(
            e.to_string(),
            "the inventory is off (inventory: off in server.yaml)"
        );
    }

    /// A store that cannot be opened names the file, then SQLite's reason.
    #[test]
    fn a_store_that_cannot_be_opened_names_its_file() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("missing").join("inventory.sqlite");
        let e = match open_store(&InventorySetting::Sqlite(path.clone())) {
            Ok(_) => panic!("a file in a missing folder opened"),
            Err(e) => e,
        };
        let shown = format!("{e:#}");
        let expected = format!("cannot open the inventory database {}: ", path.display());
        assert!(shown.starts_with(&expected), "{shown}");
        assert!(matches!(
            e.downcast_ref::<db_error::DbError>(),
            Some(db_error::DbError::Open {
                setting_up: false,
                ..
            })
        ));
    }
}

//! The state handlers share: the current snapshot behind an `ArcSwap`, replaced whole in one
//! store by a reload, read with one load per request.

use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};

use crate::snapshot::Snapshot;

pub struct AppState {
    snapshot: ArcSwap<Snapshot>,
}

impl AppState {
    pub fn new(snapshot: Snapshot) -> AppState {
        AppState {
            snapshot: ArcSwap::from_pointee(snapshot),
        }
    }

    /// The snapshot to answer one request from. Hold it only while answering.
    pub fn snapshot(&self) -> Guard<Arc<Snapshot>> {
        self.snapshot.load()
    }

    /// The snapshot, as an owned `Arc` (for long work such as a rescan).
    pub fn snapshot_arc(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Replaces the snapshot for every request that starts from now on.
    pub fn store_arc(&self, snapshot: Arc<Snapshot>) {
        self.snapshot.store(snapshot);
    }
}

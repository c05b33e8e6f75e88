//! The consumers' checkpoint store: one small JSON file per shard in a directory, written
//! atomically (temporary file, fsync, rename, fsync of the directory), so a checkpoint that
//! was reported written survives a crash of the consumer or the machine, and a reader never
//! sees a half-written one.

use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A consumer's progress on one shard (KCL's `ExtendedSequenceNumber` without sub-numbers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Checkpoint {
    /// Every record up to and including this sequence number was processed.
    Seq(String),
    /// The shard was read to its end (`SHARD_END`): its children may start.
    ShardEnd,
}

/// Why the store could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A shard id that cannot name a file (only letters, digits, `-` and `_` can).
    #[error("shard id {0:?} cannot name a checkpoint file")]
    BadShardId(String),
    /// The file system refused.
    #[error("checkpoint store {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A checkpoint file holds something else.
    #[error("checkpoint file {path} is not a checkpoint: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// The checkpoint files of one application (all its consumers share them).
#[derive(Debug)]
pub struct CheckpointStore {
    dir: PathBuf,
    temp_counter: AtomicU64,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl CheckpointStore {
    /// The store in `dir`, created when missing. Existing checkpoints are kept.
    pub fn open(dir: &Path) -> Result<Self, CheckpointError> {
        fs::create_dir_all(dir).map_err(io_error(dir))?;
        Ok(CheckpointStore {
            dir: dir.to_path_buf(),
            temp_counter: AtomicU64::new(0),
        })
    }

    /// The directory the store lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self, shard: &str) -> Result<PathBuf, CheckpointError> {
        let safe = !shard.is_empty()
            && shard.len() <= 128
            && shard
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if safe {
            Ok(self.dir.join(format!("{shard}.checkpoint")))
        } else {
            Err(CheckpointError::BadShardId(shard.to_owned()))
        }
    }

    /// The checkpoint of `shard`, `None` when none was ever written.
    pub fn read(&self, shard: &str) -> Result<Option<Checkpoint>, CheckpointError> {
        let path = self.file(shard)?;
        match fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| CheckpointError::Corrupt {
                        path,
                        reason: e.to_string(),
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(CheckpointError::Io { path, source }),
        }
    }

    /// Replaces the checkpoint of `shard`. When this returns `Ok`, the new checkpoint is on
    /// disk durably (file and directory entry synced); a crash at any point leaves either the
    /// old or the new checkpoint, never a mix.
    pub fn write(&self, shard: &str, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        let path = self.file(shard)?;
        let n = self.temp_counter.fetch_add(1, Ordering::Relaxed);
        let temp = self
            .dir
            .join(format!(".{shard}.{}.{n}.tmp", std::process::id()));
        let body = serde_json::to_vec(checkpoint).map_err(|e| CheckpointError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
                .map_err(io_error(&temp))?;
            f.write_all(&body).map_err(io_error(&temp))?;
            f.sync_all().map_err(io_error(&temp))?;
        }
        if let Err(source) = fs::rename(&temp, &path) {
            let _ = fs::remove_file(&temp);
            return Err(CheckpointError::Io { path, source });
        }
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io_error(&self.dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("seqcheck-ckpt-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn checkpoints_round_trip_and_replace_each_other() {
        let dir = temp_dir("roundtrip");
        let store = CheckpointStore::open(&dir).expect("store");
        assert_eq!(store.read("shardId-000000000000").expect("read"), None);
        store
            .write("shardId-000000000000", &Checkpoint::Seq("42".into()))
            .expect("write");
        assert_eq!(
            store.read("shardId-000000000000").expect("read"),
            Some(Checkpoint::Seq("42".into()))
        );
        store
            .write("shardId-000000000000", &Checkpoint::ShardEnd)
            .expect("write");
        // A second store over the same directory (a restarted consumer) sees it.
        let again = CheckpointStore::open(&dir).expect("store");
        assert_eq!(
            again.read("shardId-000000000000").expect("read"),
            Some(Checkpoint::ShardEnd)
        );
        let leftovers = fs::read_dir(&dir)
            .expect("dir")
            .filter(|e| {
                e.as_ref()
                    .map(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
                    .unwrap_or(false)
            })
            .count();
        assert_eq!(leftovers, 0);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn shard_ids_that_are_not_file_names_are_refused() {
        let dir = temp_dir("badid");
        let store = CheckpointStore::open(&dir).expect("store");
        assert!(matches!(
            store.read("../etc/passwd"),
            Err(CheckpointError::BadShardId(_))
        ));
        let _ = fs::remove_dir_all(&dir);
    }
}

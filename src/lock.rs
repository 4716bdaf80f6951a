//! One build at a time per state file. The lock is an OS file lock, which the kernel releases
//! when the process exits however it exits, so a killed run never leaves a stale lock behind.
//!
//! The lock file also says who holds it (`pid N`) and, once a run has finished, which output
//! folder it finished writing (`finished <folder>`): a run that finished left no temporary file
//! there, so the next run into the same folder need not read the folder for them.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another dateline build is running (lock {} held{}); this run stops without touching anything",
        path.display(),
        holder.as_ref().map(|h| format!(" by {h}")).unwrap_or_default()
    )]
    Held {
        path: PathBuf,
        holder: Option<String>,
    },
    #[error("cannot lock {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Held while alive.
#[derive(Debug)]
pub struct StateLock {
    file: File,
    path: PathBuf,
    /// What the lock file said before this run took it.
    before: Vec<u8>,
}

/// Begins the line after the holder's: `\nfinished <folder>\0` to the end of the file.
const FINISHED: &[u8] = b"\nfinished ";

impl StateLock {
    /// Take the lock next to the state file (`state.sqlite.lock`), or say who holds it.
    pub fn acquire(state: &Path) -> Result<StateLock, LockError> {
        let path = PathBuf::from(format!("{}.lock", state.display()));
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.lines().next().unwrap_or_default().trim();
                return Err(LockError::Held {
                    path: path.clone(),
                    holder: (!holder.is_empty()).then(|| holder.to_string()),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        let mut before = Vec::new();
        file.read_to_end(&mut before).map_err(io)?;
        // Who holds it, for the message another run shows; no longer finished.
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        write!(file, "pid {}", std::process::id()).map_err(io)?;
        Ok(StateLock { file, path, before })
    }

    /// Whether the run before this one finished writing `out_dir` ([`StateLock::finished`]).
    /// Not after a run that was killed, that failed before its end, or that wrote elsewhere,
    /// nor after a dateline that did not record it.
    pub fn finished_before(&self, out_dir: &Path) -> bool {
        // The folder is the rest of the file up to a NUL, which no path holds (a line break it
        // may): a record cut short by a full disk vouches for no folder.
        let Some(at) = self
            .before
            .windows(FINISHED.len())
            .position(|w| w == FINISHED)
        else {
            return false;
        };
        self.before[at + FINISHED.len()..].strip_suffix(b"\0")
            == Some(out_dir.as_os_str().as_encoded_bytes())
    }

    /// Record that this run has finished writing `out_dir`: nothing it staged is left there.
    pub fn finished(&mut self, out_dir: &Path) -> Result<(), LockError> {
        let mut line = FINISHED.to_vec();
        line.extend_from_slice(out_dir.as_os_str().as_encoded_bytes());
        line.push(b'\0');
        self.file.write_all(&line).map_err(|source| LockError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.sqlite");
        let first = StateLock::acquire(&state).unwrap();
        let err = StateLock::acquire(&state).unwrap_err();
        assert!(
            err.to_string()
                .contains("another dateline build is running"),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        StateLock::acquire(&state).unwrap();
    }

    /// The lock as the run after one that finished writing `folder` takes it.
    fn after_a_run_that_finished(state: &Path, folder: &Path) -> StateLock {
        let mut run = StateLock::acquire(state).unwrap();
        run.finished(folder).unwrap();
        drop(run);
        StateLock::acquire(state).unwrap()
    }

    #[test]
    fn only_a_run_that_finished_its_folder_vouches_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.sqlite");
        let (public, other) = (dir.path().join("public"), dir.path().join("other"));
        // A new lock file, or one of a dateline that did not record it.
        assert!(!StateLock::acquire(&state).unwrap().finished_before(&public));
        std::fs::write(dir.path().join("state.sqlite.lock"), "pid 4242").unwrap();
        assert!(!StateLock::acquire(&state).unwrap().finished_before(&public));

        let next = after_a_run_that_finished(&state, &public);
        assert!(next.finished_before(&public));
        assert!(!next.finished_before(&other));
        assert!(
            !next.finished_before(&dir.path().join("pub")),
            "a prefix is not the folder"
        );
        // `next` took the lock and ended without finishing, as a killed run does.
        drop(next);
        assert!(!StateLock::acquire(&state).unwrap().finished_before(&public));

        // A folder's name may hold a line break, and vouches for itself only.
        let odd = dir.path().join(format!("x\nfinished {}", public.display()));
        let next = after_a_run_that_finished(&state, &odd);
        assert!(next.finished_before(&odd));
        assert!(!next.finished_before(&public));
        drop(next);
        // A record cut short (a full disk) vouches for no folder, not for a prefix of its own.
        let cut = format!("pid 4242\nfinished {}", public.display());
        std::fs::write(dir.path().join("state.sqlite.lock"), &cut[..cut.len() - 3]).unwrap();
        let next = StateLock::acquire(&state).unwrap();
        assert!(!next.finished_before(&dir.path().join("pub")));
        assert!(!next.finished_before(&public));
    }

    #[test]
    fn the_holder_is_named_while_it_records_its_finish() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.sqlite");
        let mut first = StateLock::acquire(&state).unwrap();
        first.finished(&dir.path().join("public")).unwrap();
        let err = StateLock::acquire(&state).unwrap_err().to_string();
        assert!(
            err.ends_with(&format!(
                "held by pid {}); this run stops without touching anything",
                std::process::id()
            )),
            "{err}"
        );
    }
}

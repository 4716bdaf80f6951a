//! The output folder: the one place files are published. A later object-storage backend plugs
//! in here.
//!
//! Every file is written to a temporary file in the same folder and renamed over the old one, so
//! a reader (or a sync to a static host) sees the old file or the new one, never half of one. A
//! file whose bytes would not change is not touched, so its mtime stays and syncs skip it.
//!
//! Files are not fsynced: a killed run is covered by the rename, and a file a power cut leaves
//! damaged differs from what the next run renders, so that run rewrites it. An fsync per file
//! cost a tenth of a cold build's CPU on a 500-feed site.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("output folder {}: {source}", path.display())]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Whether a publish changed the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Changed,
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct OutputDir {
    root: PathBuf,
    /// The folder, open: a published file's size is read by its name relative to this, which
    /// spares the kernel a walk of the whole path for each of the files a rerun checks. (Files
    /// are written by path: a folder swapped for another while a run is under way would have
    /// its files checked in the old one and written to the new.)
    #[cfg(unix)]
    folder: std::sync::Arc<rustix::fd::OwnedFd>,
    temps: Arc<Temps>,
}

/// This run's temporary files in the folder that may still be there, and whether a leftover
/// of an earlier run (or the writability probe) could not be removed. Counted, so that
/// "nothing of this run is left behind" is checked where it is claimed
/// ([`OutputDir::left_clean`]), not assumed.
#[derive(Debug, Default)]
struct Temps {
    live: AtomicUsize,
    lost: AtomicBool,
}

/// A temporary file of this run in the folder, counted in [`Temps`] until it is renamed into
/// place or removed (on drop, as tempfile's own guard would, but with the outcome kept).
#[derive(Debug)]
struct Temp {
    path: Option<tempfile::TempPath>,
    temps: Arc<Temps>,
}

impl Temp {
    fn path(&self) -> &Path {
        self.path.as_deref().expect("present until dropped or put")
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            // One that could not be removed stays counted: the folder is not left clean.
            if path.close().is_ok() {
                self.temps.live.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }
}

impl OutputDir {
    /// Create the folder if needed and prove it is writable before any feed is fetched.
    pub fn open(root: &Path) -> Result<OutputDir, PublishError> {
        let folder_error = |source| PublishError::Folder {
            path: root.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(root).map_err(folder_error)?;
        let probe = tempfile::Builder::new()
            .prefix(".dateline-probe")
            .tempfile_in(root)
            .map_err(folder_error)?;
        let temps = Arc::new(Temps {
            live: AtomicUsize::new(0),
            lost: AtomicBool::new(probe.close().is_err()),
        });
        #[cfg(unix)]
        let folder = {
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
            rustix::fs::open(root, flags, Mode::empty())
                .map_err(|errno| folder_error(errno.into()))?
        };
        Ok(OutputDir {
            root: root.to_path_buf(),
            #[cfg(unix)]
            folder: std::sync::Arc::new(folder),
            temps,
        })
    }

    /// How many hidden entries (temporary files, the probe) the folder holds.
    #[cfg(test)]
    pub(crate) fn hidden_entries(&self) -> usize {
        std::fs::read_dir(&self.root)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with('.')
            })
            .count()
    }

    /// Whether every temporary file this run made here is gone (renamed into place or
    /// removed), and every leftover it looked for was removed.
    pub fn left_clean(&self) -> bool {
        self.temps.live.load(Ordering::Acquire) == 0 && !self.temps.lost.load(Ordering::Acquire)
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Whether the files `names` are all there at the byte sizes `sizes` (as last written).
    pub fn has_sizes<'n>(&self, names: impl IntoIterator<Item = &'n str>, sizes: &[u64]) -> bool {
        let mut count = 0;
        let all = names.into_iter().zip(sizes).all(|(name, size)| {
            count += 1;
            self.size_of(name) == Some(*size)
        });
        all && count == sizes.len()
    }

    /// The byte size of the published file `name` (following a symlink, as readers do).
    fn size_of(&self, name: &str) -> Option<u64> {
        #[cfg(unix)]
        {
            let stat =
                rustix::fs::statat(&*self.folder, name, rustix::fs::AtFlags::empty()).ok()?;
            u64::try_from(stat.st_size).ok()
        }
        #[cfg(not(unix))]
        {
            std::fs::metadata(self.root.join(name))
                .ok()
                .map(|m| m.len())
        }
    }

    /// What is published as `name`, if anything.
    pub fn read(&self, name: &str) -> Option<Vec<u8>> {
        std::fs::read(self.root.join(name)).ok()
    }

    /// Temporary files a killed run left behind; removed while the run's lock is held, so no
    /// other run is writing them.
    pub fn remove_leftovers(&self) -> Result<(), PublishError> {
        let entries = std::fs::read_dir(&self.root).map_err(|source| PublishError::Folder {
            path: self.root.clone(),
            source,
        })?;
        // One that stays (or a folder that cannot be read through) is looked for again next run.
        let mut all_gone = true;
        for entry in entries {
            let Ok(entry) = entry else {
                all_gone = false;
                continue;
            };
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let ours = (name.starts_with('.') && name.ends_with(".tmp"))
                || name.starts_with(".dateline-probe");
            if ours && entry.path().is_file() {
                match std::fs::remove_file(entry.path()) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => all_gone = false,
                    _ => {}
                }
            }
        }
        if !all_gone {
            self.temps.lost.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// Publish `bytes` as `name` atomically, unless the file already holds exactly these bytes.
    pub fn publish(&self, name: &str, bytes: &[u8]) -> Result<Written, PublishError> {
        match self.stage(name, bytes)? {
            Some(staged) => staged.put().map(|()| Written::Changed),
            None => Ok(Written::Unchanged),
        }
    }

    /// Write `bytes` beside `name`, to be put in its place later ([`Staged::put`]); `None` when
    /// the file already holds exactly these bytes. Dropped unput, the written file is removed.
    pub fn stage(&self, name: &str, bytes: &[u8]) -> Result<Option<Staged>, PublishError> {
        let target = self.root.join(name);
        if holds(&target, bytes) {
            return Ok(None);
        }
        let write_error = |source| PublishError::Write {
            path: target.clone(),
            source,
        };
        let (mut file, temp) = self.temp_file(name).map_err(write_error)?;
        file.write_all(bytes).map_err(write_error)?;
        make_readable(&file).map_err(write_error)?;
        Ok(Some(Staged { temp, target }))
    }
}

/// A file written beside the one it replaces (see [`OutputDir::stage`]).
#[derive(Debug)]
pub struct Staged {
    temp: Temp,
    target: PathBuf,
}

impl Staged {
    /// Rename the file over the published one.
    pub fn put(self) -> Result<(), PublishError> {
        let Staged { mut temp, target } = self;
        let path = temp.path.take().expect("put once");
        match path.persist(&target) {
            Ok(()) => {
                temp.temps.live.fetch_sub(1, Ordering::AcqRel);
                Ok(())
            }
            Err(e) => {
                // Left to `temp` to remove, and count.
                temp.path = Some(e.path);
                Err(PublishError::Write {
                    path: target,
                    source: e.error,
                })
            }
        }
    }
}

impl OutputDir {
    /// A hidden temporary file beside `name`, renamed over it once written (`remove_leftovers`
    /// clears the ones a killed run leaves).
    fn temp_file(&self, name: &str) -> std::io::Result<(std::fs::File, Temp)> {
        let (file, path) = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(&self.root)?
            .into_parts();
        self.temps.live.fetch_add(1, Ordering::AcqRel);
        let temp = Temp {
            path: Some(path),
            temps: self.temps.clone(),
        };
        Ok((file, temp))
    }

    /// Stage what `write` produces as `name`, as [`OutputDir::stage`] does, without holding it
    /// in memory: it is written to the temporary file, then compared with the published one.
    /// Returns the staged file (`None` when the published one holds the same bytes) and its
    /// size.
    pub fn stage_streamed(
        &self,
        name: &str,
        write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<(Option<Staged>, u64), PublishError> {
        let target = self.root.join(name);
        let write_error = |source| PublishError::Write {
            path: target.clone(),
            source,
        };
        let (mut file, temp) = self.temp_file(name).map_err(write_error)?;
        {
            let mut out = std::io::BufWriter::with_capacity(64 * 1024, &mut file);
            write(&mut out).map_err(write_error)?;
            out.flush().map_err(write_error)?;
        }
        let size = file.metadata().map_err(write_error)?.len();
        if same_content(temp.path(), &target) {
            return Ok((None, size));
        }
        make_readable(&file).map_err(write_error)?;
        Ok((Some(Staged { temp, target }), size))
    }
}

/// Static hosts serve what others can read; temporary files start private, and the operator's
/// umask must not make feeds private either.
fn make_readable(file: &std::fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Whether two files hold the same bytes.
fn same_content(a: &Path, b: &Path) -> bool {
    std::fs::File::open(a).is_ok_and(|a| {
        let len = a.metadata().map_or(u64::MAX, |m| m.len());
        same_stream(b, a, len)
    })
}

/// Whether the file at `path` holds exactly `bytes`.
fn holds(path: &Path, bytes: &[u8]) -> bool {
    same_stream(path, bytes, bytes.len() as u64)
}

/// Whether the file at `path` holds exactly what `expected` (`len` bytes) reads: a size that
/// differs says no without reading, and the rest is compared a block at a time (an index of
/// thousands of feeds is megabytes).
fn same_stream(path: &Path, mut expected: impl std::io::Read, len: u64) -> bool {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    if file.metadata().map_or(true, |m| m.len() != len) {
        return false;
    }
    let mut block = vec![0u8; 64 * 1024];
    let mut other = vec![0u8; 64 * 1024];
    loop {
        let n = match file.read(&mut block) {
            Ok(n) => n,
            Err(_) => return false,
        };
        if n == 0 {
            // Nothing more on either side.
            return expected.read(&mut other[..1]).is_ok_and(|m| m == 0);
        }
        if expected.read_exact(&mut other[..n]).is_err() || block[..n] != other[..n] {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_leave_the_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::open(&dir.path().join("public")).unwrap();
        assert_eq!(out.publish("a.xml", b"one").unwrap(), Written::Changed);
        let before = std::fs::metadata(out.path().join("a.xml"))
            .unwrap()
            .modified()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(out.publish("a.xml", b"one").unwrap(), Written::Unchanged);
        let after = std::fs::metadata(out.path().join("a.xml"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(before, after);
        assert_eq!(out.publish("a.xml", b"two").unwrap(), Written::Changed);
        assert_eq!(std::fs::read(out.path().join("a.xml")).unwrap(), b"two");
        assert_eq!(out.hidden_entries(), 0, "temporary files left behind");
    }

    #[test]
    fn the_folder_is_left_clean_only_once_every_temporary_file_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::open(&dir.path().join("public")).unwrap();
        assert!(out.left_clean(), "the probe is removed");

        let staged = out.stage("a.xml", b"one").unwrap().expect("new file");
        let kept = out.stage("b.xml", b"two").unwrap().expect("new file");
        assert!(!out.left_clean(), "two staged files are there");
        staged.put().unwrap();
        assert!(!out.left_clean(), "one staged file is still there");
        drop(kept);
        assert!(out.left_clean(), "put or removed");
        let (same, _) = out
            .stage_streamed("a.xml", |w| w.write_all(b"one"))
            .unwrap();
        assert!(
            same.is_none() && out.left_clean(),
            "the same bytes: removed at once"
        );

        // A rename that fails leaves its file to be removed, and counted when it is.
        std::fs::create_dir(out.path().join("c.xml")).unwrap();
        std::fs::write(out.path().join("c.xml").join("x"), "").unwrap();
        let blocked = out.stage("c.xml", b"three").unwrap().expect("new file");
        assert!(blocked.put().is_err());
        assert!(out.left_clean());

        // One that cannot be removed (gone already, as if by another hand) taints the folder.
        let taken = out.stage("d.xml", b"four").unwrap().expect("new file");
        std::fs::remove_file(taken.temp.path()).unwrap();
        drop(taken);
        assert!(!out.left_clean(), "a removal that failed is not clean");
        assert_eq!(out.hidden_entries(), 0);
    }

    #[test]
    fn a_streamed_file_is_staged_only_when_it_differs() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::open(&dir.path().join("public")).unwrap();
        let (staged, size) = out
            .stage_streamed("index.html", |w| w.write_all(b"<p>one</p>"))
            .unwrap();
        assert_eq!(size, 10);
        assert!(!out.path().join("index.html").exists(), "not put yet");
        staged.expect("new content").put().unwrap();
        assert_eq!(
            std::fs::read(out.path().join("index.html")).unwrap(),
            b"<p>one</p>"
        );

        let (staged, size) = out
            .stage_streamed("index.html", |w| w.write_all(b"<p>one</p>"))
            .unwrap();
        assert!(staged.is_none(), "the same bytes");
        assert_eq!(size, 10);

        let (staged, _) = out
            .stage_streamed("index.html", |w| w.write_all(b"<p>two</p>"))
            .unwrap();
        assert_eq!(out.hidden_entries(), 1, "written beside");
        drop(staged);
        assert_eq!(out.hidden_entries(), 0, "removed when dropped unput");
        assert_eq!(
            std::fs::read(out.path().join("index.html")).unwrap(),
            b"<p>one</p>"
        );

        let failed = out.stage_streamed("index.html", |_| Err(std::io::Error::other("template")));
        assert!(failed.is_err());
        assert_eq!(out.hidden_entries(), 0, "nothing left by a failed render");
    }

    #[test]
    fn sizes_are_checked_by_name_in_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::open(&dir.path().join("public")).unwrap();
        out.publish("a.xml", b"12345").unwrap();
        out.publish("a.atom", b"123").unwrap();
        assert!(out.has_sizes(["a.xml", "a.atom"], &[5, 3]));
        assert!(
            !out.has_sizes(["a.xml", "a.atom"], &[5, 4]),
            "a size differs"
        );
        assert!(!out.has_sizes(["a.xml"], &[5, 3]), "fewer names than sizes");
        assert!(
            !out.has_sizes(["a.xml", "b.atom"], &[5, 3]),
            "a file is missing"
        );

        std::fs::write(out.path().join("a.atom"), b"1").unwrap();
        assert!(!out.has_sizes(["a.xml", "a.atom"], &[5, 3]), "truncated");
        std::fs::remove_file(out.path().join("a.xml")).unwrap();
        assert!(!out.has_sizes(["a.xml"], &[5]), "deleted");

        #[cfg(unix)]
        {
            // An operator's symlink is read through, as a static host serves it.
            std::fs::write(dir.path().join("elsewhere"), b"12345").unwrap();
            std::os::unix::fs::symlink(dir.path().join("elsewhere"), out.path().join("a.xml"))
                .unwrap();
            assert!(out.has_sizes(["a.xml"], &[5]));
        }
    }

    #[test]
    fn unwritable_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-folder");
        std::fs::write(&file, b"x").unwrap();
        let err = OutputDir::open(&file.join("public")).unwrap_err();
        assert!(err.to_string().contains("not-a-folder"), "{err}");
    }
}

//! File-system building blocks: atomic replacement and a cross-process lock.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

use crate::Error;

/// Prefix of temporary files; [`remove_stale_temporaries`] removes those a crash left behind.
const TEMP_PREFIX: &str = ".tokensim-tmp-";

/// Replaces `path` with `bytes` so that a reader (or a crash) sees the old or the new content,
/// never a mix: temporary file in the same folder, fsync, rename, fsync of the folder.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let folder = parent(path);
    let mut file = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(folder)
        .map_err(Error::io("create a temporary file in", folder))?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .map_err(Error::io("write", file.path()))?;
    file.persist(path)
        .map_err(|error| Error::io("replace", path)(error.error))?;
    sync_folder(folder)
}

/// Deletes `path`; a file already gone is not an error.
pub(crate) fn remove(path: &Path) -> Result<(), Error> {
    match fs::remove_file(path) {
        Ok(()) => sync_folder(parent(path)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(Error::io("delete", path)(error)),
    }
}

/// Reads `path`, `None` when it does not exist.
pub(crate) fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Error::io("read", path)(error)),
    }
}

/// Removes temporary files left by a process killed mid-write. Call only under the exclusive
/// [`Lock`], when no writer of this store is running.
pub(crate) fn remove_stale_temporaries(folder: &Path) -> Result<(), Error> {
    let entries = match fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(Error::io("list", folder)(error)),
    };
    for entry in entries {
        let entry = entry.map_err(Error::io("list", folder))?;
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            remove(&entry.path())?;
        }
    }
    Ok(())
}

/// Creates `folder` and its parents (owner-only on Unix for new folders).
pub(crate) fn create_folder(folder: &Path) -> Result<(), Error> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(folder)
        .map_err(Error::io("create the folder", folder))
}

/// An advisory lock on the store's lock file, held until dropped. Exclusive for writers,
/// shared for readers; it serialises processes and threads alike (each lock opens the file).
#[derive(Debug)]
pub(crate) struct Lock {
    _file: File,
}

impl Lock {
    /// Blocks until no other holder conflicts.
    pub(crate) fn acquire(path: &Path, exclusive: bool) -> Result<Self, Error> {
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(Error::io("open the lock file", path))?;
        let locked = if exclusive {
            file.lock()
        } else {
            file.lock_shared()
        };
        locked.map_err(Error::io("lock", path))?;
        Ok(Self { _file: file })
    }

    /// Takes the exclusive lock if nobody holds it; `None` otherwise.
    #[cfg(test)]
    pub(crate) fn try_exclusive(path: &Path) -> Result<Option<Self>, Error> {
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(Error::io("open the lock file", path))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Self { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(error)) => Err(Error::io("lock", path)(error)),
        }
    }
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    }
}

/// Makes a rename or deletion in `folder` durable. Windows has no folder handles to sync;
/// its renames are durable once `MoveFileEx` returns.
fn sync_folder(folder: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    File::open(folder)
        .and_then(|handle| handle.sync_all())
        .map_err(Error::io("sync the folder", folder))?;
    #[cfg(not(unix))]
    let _ = folder;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_and_leaves_no_temporaries() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("index.json");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(fs::read_dir(folder.path()).unwrap().count(), 1);
    }

    #[test]
    fn stale_temporaries_are_removed() {
        let folder = tempfile::tempdir().unwrap();
        fs::write(folder.path().join(".tokensim-tmp-abc"), b"half").unwrap();
        fs::write(folder.path().join("keep"), b"x").unwrap();
        remove_stale_temporaries(folder.path()).unwrap();
        let names: Vec<_> = fs::read_dir(folder.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["keep"]);
    }

    #[test]
    fn exclusive_lock_excludes_and_is_released_on_drop() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("lock");
        let held = Lock::acquire(&path, true).unwrap();
        assert!(
            Lock::try_exclusive(&path).unwrap().is_none(),
            "second holder got in"
        );
        drop(held);
        assert!(
            Lock::try_exclusive(&path).unwrap().is_some(),
            "lock not released"
        );
        let shared = Lock::acquire(&path, false).unwrap();
        assert!(
            Lock::try_exclusive(&path).unwrap().is_none(),
            "shared lock ignored"
        );
        drop(shared);
    }

    #[test]
    fn removing_a_missing_file_is_fine() {
        let folder = tempfile::tempdir().unwrap();
        remove(&folder.path().join("absent")).unwrap();
        assert_eq!(read_if_exists(&folder.path().join("absent")).unwrap(), None);
    }
}

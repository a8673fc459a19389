//! Files only Sonde's own user may read: the data directory (0700) and everything written in
//! it (0600) — the database holds sessions and sealed secrets, the key file unseals them.
//! Modes are set explicitly, so a permissive umask changes nothing.

use std::io::Write;
use std::path::Path;

/// Creates `dir` (and its parents) if needed and restricts it to its owner, also when it
/// already existed with a looser mode from an older version.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    restrict(dir, 0o700)
}

/// Restricts an existing file to its owner (0600); a missing file is fine.
pub fn restrict_file(path: &Path) -> std::io::Result<()> {
    match restrict(path, 0o600) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Writes `contents` to a new or existing file readable by its owner only.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut f = open_private(path, false)?;
    f.write_all(contents)?;
    f.sync_all()
}

/// Creates `path` with mode 0600, failing if it exists (a key written once).
pub fn create_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut f = open_private(path, true)?;
    f.write_all(contents)?;
    f.sync_all()
}

#[cfg(unix)]
fn open_private(path: &Path, new: bool) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).mode(0o600);
    if new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    let f = options.open(path)?;
    // `mode` applies only when the file is created: an existing one is restricted here.
    restrict(path, 0o600)?;
    Ok(f)
}

#[cfg(not(unix))]
fn open_private(path: &Path, new: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    options.open(path)
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn directories_and_files_are_the_owners_only() {
        let dir =
            std::env::temp_dir().join(format!("sonde-private-{}", crate::ids::random_token(8)));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let loose = dir.join("loose");
        std::fs::write(&loose, "x").unwrap();
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&loose, b"y").unwrap();
        assert_eq!(mode(&loose), 0o600);
        assert_eq!(std::fs::read_to_string(&loose).unwrap(), "y");
        let key = dir.join("key");
        create_private(&key, b"k").unwrap();
        assert_eq!(mode(&key), 0o600);
        assert!(create_private(&key, b"again").is_err(), "written once");
        restrict_file(&dir.join("missing")).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! Files in the instance's sandbox directory, over `wasi:filesystem`.
//!
//! Paths are relative to the sandbox (`receipts/o-1.json`); absolute paths
//! and paths that lead outside it through `..` or symlinks fail with
//! [`SandboxError`] (the host's cap-std preopen refuses them).
//!
//! ```no_run
//! use continuum_sdk::activity::sandbox;
//! # fn f() -> Result<(), continuum_sdk::activity::SandboxError> {
//! sandbox::write_file("notes/today.txt", b"hello")?;
//! assert_eq!(sandbox::read_file("notes/today.txt")?, b"hello");
//! assert_eq!(sandbox::list_dir("notes")?, vec!["today.txt".to_string()]);
//! # Ok(()) }
//! ```

use crate::bindings::activity_world::wasi::filesystem::preopens;
use crate::bindings::activity_world::wasi::filesystem::types::{
    Descriptor, DescriptorFlags, ErrorCode, OpenFlags, PathFlags,
};

use super::SandboxError;

/// The name under which the host preopens the sandbox directory.
///
/// ```no_run
/// assert_eq!(continuum_sdk::activity::sandbox::GUEST_PATH, "/sandbox");
/// ```
pub const GUEST_PATH: &str = "/sandbox";

const CHUNK: u64 = 64 * 1024;

/// The sandbox directory's descriptor.
fn root(target: &str) -> Result<Descriptor, SandboxError> {
    preopens::get_directories()
        .into_iter()
        .find(|(_, name)| name == GUEST_PATH)
        .map(|(d, _)| d)
        .ok_or_else(|| SandboxError {
            op: "open",
            target: target.to_owned(),
            code: "this instance grants no sandbox directory".into(),
        })
}

/// Whether the instance grants this activity a sandbox directory (the
/// manifest always does; an embedding host may not).
///
/// ```no_run
/// use continuum_sdk::activity::sandbox;
/// if sandbox::available() {
///     sandbox::write_file("seen.txt", b"1").ok();
/// }
/// ```
pub fn available() -> bool {
    preopens::get_directories().iter().any(|(_, name)| name == GUEST_PATH)
}

fn open(path: &str, open: OpenFlags, flags: DescriptorFlags) -> Result<Descriptor, SandboxError> {
    let dir = root(path)?;
    if path.is_empty() || path == "." {
        return Ok(dir);
    }
    dir.open_at(PathFlags::empty(), path, open, flags).map_err(|e| SandboxError::new("open", path, e.name()))
}

/// Reads the whole file at `path`.
///
/// ```no_run
/// # fn f() -> Result<(), continuum_sdk::activity::SandboxError> {
/// let bytes = continuum_sdk::activity::sandbox::read_file("receipts/o-1.json")?;
/// # Ok(()) }
/// ```
pub fn read_file(path: &str) -> Result<Vec<u8>, SandboxError> {
    let file = open(path, OpenFlags::empty(), DescriptorFlags::READ)?;
    let mut out = Vec::new();
    loop {
        let (chunk, eof) = file.read(CHUNK, out.len() as u64).map_err(|e| SandboxError::new("read", path, e.name()))?;
        out.extend_from_slice(&chunk);
        if eof || chunk.is_empty() {
            return Ok(out);
        }
    }
}

/// Reads the file at `path` as UTF-8 text.
///
/// ```no_run
/// # fn f() -> Result<(), continuum_sdk::activity::SandboxError> {
/// let text = continuum_sdk::activity::sandbox::read_to_string("receipts/o-1.json")?;
/// # Ok(()) }
/// ```
pub fn read_to_string(path: &str) -> Result<String, SandboxError> {
    String::from_utf8(read_file(path)?).map_err(|_| SandboxError {
        op: "read",
        target: path.to_owned(),
        code: "not UTF-8".into(),
    })
}

/// Creates (or truncates) the file at `path` and writes `bytes` to it;
/// missing parent directories are created.
///
/// ```no_run
/// # fn f() -> Result<(), continuum_sdk::activity::SandboxError> {
/// continuum_sdk::activity::sandbox::write_file("receipts/o-1.json", br#"{"ok":true}"#)?;
/// # Ok(()) }
/// ```
pub fn write_file(path: &str, bytes: &[u8]) -> Result<(), SandboxError> {
    if let Some((parent, _)) = path.rsplit_once('/') {
        if !parent.is_empty() {
            create_dir_all(parent)?;
        }
    }
    let file = open(path, OpenFlags::CREATE | OpenFlags::TRUNCATE, DescriptorFlags::WRITE)?;
    let mut offset = 0usize;
    while offset < bytes.len() {
        let end = bytes.len().min(offset + CHUNK as usize);
        let n = file.write(&bytes[offset..end], offset as u64).map_err(|e| SandboxError::new("write", path, e.name()))?;
        if n == 0 {
            return Err(SandboxError { op: "write", target: path.to_owned(), code: "wrote nothing".into() });
        }
        offset += n as usize;
    }
    Ok(())
}

/// Creates the directory `path` and its missing parents.
///
/// ```no_run
/// # fn f() -> Result<(), continuum_sdk::activity::SandboxError> {
/// continuum_sdk::activity::sandbox::create_dir_all("exports/2026/11")?;
/// # Ok(()) }
/// ```
pub fn create_dir_all(path: &str) -> Result<(), SandboxError> {
    let dir = root(path)?;
    let mut prefix = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(part);
        match dir.create_directory_at(&prefix) {
            Ok(()) | Err(ErrorCode::Exist) => {}
            Err(e) => return Err(SandboxError::new("create-directory", &prefix, e.name())),
        }
    }
    Ok(())
}

/// The names of the entries of directory `path` (`""` or `"."`: the
/// sandbox itself), sorted.
///
/// ```no_run
/// # fn f() -> Result<(), continuum_sdk::activity::SandboxError> {
/// for name in continuum_sdk::activity::sandbox::list_dir("receipts")? {
///     println!("{name}");
/// }
/// # Ok(()) }
/// ```
pub fn list_dir(path: &str) -> Result<Vec<String>, SandboxError> {
    let dir = open(path, OpenFlags::DIRECTORY, DescriptorFlags::READ)?;
    let entries = dir.read_directory().map_err(|e| SandboxError::new("list", path, e.name()))?;
    let mut names = Vec::new();
    while let Some(entry) = entries.read_directory_entry().map_err(|e| SandboxError::new("list", path, e.name()))? {
        names.push(entry.name);
    }
    names.sort();
    Ok(names)
}

/// Removes the file at `path`.
///
/// ```no_run
/// # fn f() -> Result<(), continuum_sdk::activity::SandboxError> {
/// continuum_sdk::activity::sandbox::remove_file("receipts/o-1.json")?;
/// # Ok(()) }
/// ```
pub fn remove_file(path: &str) -> Result<(), SandboxError> {
    root(path)?.unlink_file_at(path).map_err(|e| SandboxError::new("remove", path, e.name()))
}

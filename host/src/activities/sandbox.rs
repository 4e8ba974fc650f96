//! The sandbox of WASM activity components: what WASI grants them, per
//! instance. Each attempt gets a fresh [`WasiCtx`] built from the instance's
//! [`Sandbox`]:
//!
//! - one preopened directory, [`SANDBOX_GUEST_PATH`] in the guest, backed by
//!   the instance's sandbox directory (cap-std underneath: `..`, absolute
//!   paths and symlinks cannot lead outside it);
//! - only the environment variables the configuration lists, with their
//!   values taken from the host's environment when the attempt starts;
//! - no sockets at all unless hosts are listed; then TCP connections only
//!   to the listed `host:port` pairs (names resolved when the guest
//!   connects), name lookups allowed, no UDP, no listening.
//!
//! Nothing else: no arguments, no inherited stdio, no other directory.

use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

/// The path under which an activity sees its sandbox directory (its only
/// preopen).
pub const SANDBOX_GUEST_PATH: &str = "/sandbox";

/// What an instance's activity components may touch (`[instances.NAME.sandbox]`
/// in the manifest, or [`InstanceBuilder::sandbox`](crate::instance::InstanceBuilder::sandbox)).
///
/// The default grants nothing: no directory, no environment, no network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxConfig {
    /// The sandbox directory (created if missing); `None`: no filesystem.
    pub dir: Option<PathBuf>,
    /// Names of the host environment variables the activities may read.
    pub env: Vec<String>,
    /// The `host:port` pairs activities may open TCP connections to.
    pub allow_hosts: Vec<AllowedHost>,
}

impl SandboxConfig {
    /// A sandbox with the directory `dir` and nothing else.
    pub fn with_dir(dir: impl Into<PathBuf>) -> Self {
        Self { dir: Some(dir.into()), ..Self::default() }
    }

    /// Checks the configuration as [`SandboxConfig::prepare`] would, but
    /// creates nothing: where it does not exist yet, the directory's nearest
    /// existing ancestor must be a directory. What a process that serves no
    /// activities (the CLI's verbs) checks.
    pub(crate) fn check(&self) -> Result<(), SandboxError> {
        if let Some(dir) = &self.dir {
            let mut at = Some(dir.as_path());
            while let Some(p) = at {
                match std::fs::metadata(p) {
                    Ok(m) if m.is_dir() => break,
                    Ok(_) => return Err(SandboxError::NotADirectory { path: dir.clone(), found: p.to_path_buf() }),
                    Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => at = p.parent(),
                    Err(source) => return Err(SandboxError::CreateDir { path: dir.clone(), source }),
                }
            }
        }
        for name in &self.env {
            if let Some(reason) = invalid_env_name(name) {
                return Err(SandboxError::InvalidEnvName { name: name.clone(), reason });
            }
        }
        Ok(())
    }

    /// Creates the directory (if any) and checks the configuration, giving
    /// the sandbox attempts are built from.
    pub(crate) fn prepare(&self) -> Result<Sandbox, SandboxError> {
        let dir = match &self.dir {
            None => None,
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|source| SandboxError::CreateDir { path: dir.clone(), source })?;
                let canonical = dir
                    .canonicalize()
                    .map_err(|source| SandboxError::CreateDir { path: dir.clone(), source })?;
                Some(canonical)
            }
        };
        for name in &self.env {
            if let Some(reason) = invalid_env_name(name) {
                return Err(SandboxError::InvalidEnvName { name: name.clone(), reason });
            }
        }
        Ok(Sandbox { dir, env: self.env.clone(), allow_hosts: Arc::new(self.allow_hosts.clone()) })
    }
}

/// Why `name` cannot be an environment variable name.
pub fn invalid_env_name(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("must not be empty")
    } else if name.contains('=') || name.contains('\0') {
        Some("must not contain `=` or NUL")
    } else {
        None
    }
}

/// A `host:port` pair an activity may connect to. The host is a DNS name,
/// an IPv4 address, or an IPv6 address in brackets (`[::1]:443`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    /// The name or address, without brackets.
    pub host: String,
    /// The TCP port.
    pub port: u16,
}

impl fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl FromStr for AllowedHost {
    type Err = SandboxError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &'static str| SandboxError::InvalidHost { entry: s.to_owned(), reason };
        let (host, port) = s.rsplit_once(':').ok_or_else(|| bad("expected `host:port`"))?;
        let host = match host.strip_prefix('[') {
            Some(inner) => {
                let inner = inner.strip_suffix(']').ok_or_else(|| bad("unclosed `[` in an IPv6 address"))?;
                inner.parse::<std::net::Ipv6Addr>().map_err(|_| bad("not an IPv6 address inside `[...]`"))?;
                inner
            }
            None if host.contains(':') => return Err(bad("write an IPv6 address in brackets: `[::1]:443`")),
            None => host,
        };
        if host.is_empty() {
            return Err(bad("the host must not be empty"));
        }
        if host.chars().any(|c| c.is_whitespace() || c == '/' || c == '\0') {
            return Err(bad("the host must not contain whitespace or `/`"));
        }
        let port: u16 = port.parse().map_err(|_| bad("the port must be a number from 1 to 65535"))?;
        if port == 0 {
            return Err(bad("the port must be a number from 1 to 65535"));
        }
        Ok(AllowedHost { host: host.to_owned(), port })
    }
}

impl AllowedHost {
    /// Whether `addr` is this host and port (a name is resolved, blocking).
    fn matches(&self, addr: SocketAddr) -> bool {
        if addr.port() != self.port {
            return false;
        }
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            return ip == addr.ip();
        }
        match (self.host.as_str(), self.port).to_socket_addrs() {
            Ok(mut resolved) => resolved.any(|a| a.ip() == addr.ip()),
            Err(_) => false,
        }
    }
}

/// Why a sandbox could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The sandbox directory could not be created or resolved.
    #[error("cannot create the sandbox directory `{path}`: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The sandbox directory (or a part of its path) exists and is not a
    /// directory.
    #[error("the sandbox directory `{path}` cannot be created: `{found}` is not a directory")]
    NotADirectory {
        /// The directory.
        path: PathBuf,
        /// The part of its path that is a file.
        found: PathBuf,
    },
    /// The sandbox directory could not be opened for an attempt.
    #[error("cannot open the sandbox directory `{path}`: {message}")]
    OpenDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// An `allow_hosts` entry is not `host:port`.
    #[error("invalid allowed host `{entry}`: {reason}")]
    InvalidHost {
        /// The entry as written.
        entry: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An `env` entry is not a variable name.
    #[error("invalid environment variable name `{name}`: {reason}")]
    InvalidEnvName {
        /// The name as written.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// A prepared sandbox: its directory exists. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Sandbox {
    dir: Option<PathBuf>,
    env: Vec<String>,
    allow_hosts: Arc<Vec<AllowedHost>>,
}

impl Sandbox {
    /// A sandbox that grants nothing (used to ask a component for its
    /// activity names).
    pub fn none() -> Self {
        Self::default()
    }

    /// The sandbox directory on the host, if any.
    #[allow(dead_code)] // no caller left since the API narrowed
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// A fresh WASI context for one attempt.
    pub fn wasi_ctx(&self) -> Result<WasiCtx, SandboxError> {
        let mut builder = WasiCtxBuilder::new();
        if let Some(dir) = &self.dir {
            builder
                .preopened_dir(dir, SANDBOX_GUEST_PATH, FsPerms::ReadWrite)
                .map_err(|e| SandboxError::OpenDir { path: dir.clone(), message: format!("{e:#}") })?;
        }
        let vars: Vec<(String, String)> = self
            .env
            .iter()
            .filter_map(|name| std::env::var(name).ok().map(|value| (name.clone(), value)))
            .collect();
        builder.envs(&vars);
        let network = !self.allow_hosts.is_empty();
        builder.allow_tcp(network).allow_udp(false).allow_ip_name_lookup(network);
        let allowed = self.allow_hosts.clone();
        builder.socket_addr_check(move |addr, usage| {
            let allowed = allowed.clone();
            Box::pin(async move {
                match usage {
                    // The implicit bind before a connect: any local port.
                    SocketAddrUse::TcpBind => !allowed.is_empty() && addr.ip().is_unspecified() && addr.port() == 0,
                    SocketAddrUse::TcpConnect if !allowed.is_empty() => {
                        tokio::task::spawn_blocking(move || allowed.iter().any(|h| h.matches(addr)))
                            .await
                            .unwrap_or(false)
                    }
                    _ => false,
                }
            })
        });
        Ok(builder.build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_hosts_parse_names_ipv4_and_bracketed_ipv6() {
        assert_eq!(
            "example.com:443".parse::<AllowedHost>().ok(),
            Some(AllowedHost { host: "example.com".into(), port: 443 })
        );
        assert_eq!("127.0.0.1:8080".parse::<AllowedHost>().ok().map(|h| h.port), Some(8080));
        let v6 = "[::1]:80".parse::<AllowedHost>().ok();
        assert_eq!(v6.as_ref().map(|h| h.host.as_str()), Some("::1"));
        assert_eq!(v6.map(|h| h.to_string()).as_deref(), Some("[::1]:80"));
        for bad in ["example.com", ":443", "example.com:0", "example.com:99999", "::1:80", "[::1:80", "a b:1"] {
            assert!(bad.parse::<AllowedHost>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn an_ip_host_matches_only_its_address_and_port() {
        let h: AllowedHost = match "127.0.0.1:8080".parse() {
            Ok(h) => h,
            Err(e) => panic!("{e}"),
        };
        assert!(h.matches("127.0.0.1:8080".parse().unwrap_or_else(|e| panic!("{e}"))));
        assert!(!h.matches("127.0.0.1:8081".parse().unwrap_or_else(|e| panic!("{e}"))));
        assert!(!h.matches("127.0.0.2:8080".parse().unwrap_or_else(|e| panic!("{e}"))));
    }

    #[test]
    fn prepare_creates_the_directory() {
        let base = std::env::temp_dir().join(format!("continuum-sandbox-{}", std::process::id()));
        let dir = base.join("a/b");
        let sandbox = SandboxConfig::with_dir(&dir).prepare().unwrap_or_else(|e| panic!("{e}"));
        assert!(dir.is_dir());
        assert!(sandbox.wasi_ctx().is_ok());
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn check_creates_nothing_and_refuses_a_file_in_the_way() {
        let base = std::env::temp_dir().join(format!("continuum-sandbox-check-{}", uuid::Uuid::new_v4().simple()));
        let dir = base.join("a/b");
        SandboxConfig::with_dir(&dir).check().unwrap_or_else(|e| panic!("{e}"));
        assert!(!base.exists(), "check created the directory");
        std::fs::create_dir_all(&base).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(base.join("a"), b"a file").unwrap_or_else(|e| panic!("{e}"));
        let err = SandboxConfig::with_dir(&dir).check().expect_err("a file is in the way");
        assert!(matches!(&err, SandboxError::NotADirectory { found, .. } if found == &base.join("a")), "{err}");
        assert!(SandboxConfig::with_dir(&dir).prepare().is_err(), "prepare refuses it too");
        let _ = std::fs::remove_dir_all(&base);
    }
}

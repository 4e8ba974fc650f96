//! TCP connections, over `wasi:sockets`: only to the `host:port` pairs the
//! manifest lists in `allow_hosts`; with none listed, every socket call
//! fails.

use crate::bindings::activity_world::wasi::sockets::instance_network::instance_network;
use crate::bindings::activity_world::wasi::sockets::ip_name_lookup::{self, ErrorCode as LookupError};
use crate::bindings::activity_world::wasi::sockets::network::{
    ErrorCode, IpAddress, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress, Network,
};
use crate::bindings::activity_world::wasi::sockets::tcp::{InputStream, OutputStream, TcpSocket};
use crate::bindings::activity_world::wasi::sockets::tcp_create_socket::create_tcp_socket;

use super::SandboxError;

/// An open TCP connection (closed when dropped).
///
/// ```no_run
/// # fn f() -> Result<(), continuum_sdk::activity::SandboxError> {
/// let conn = continuum_sdk::activity::net::connect("payments.internal:443")?;
/// conn.output.blocking_write_and_flush(b"PING\r\n").ok();
/// # Ok(()) }
/// ```
pub struct TcpConnection {
    /// Bytes from the peer.
    pub input: InputStream,
    /// Bytes to the peer.
    pub output: OutputStream,
    /// The socket (kept open as long as the streams).
    pub socket: TcpSocket,
}

/// Opens a TCP connection to `addr` (`host:port`, `1.2.3.4:port` or
/// `[::1]:port`), blocking until it is established or refused.
///
/// ```no_run
/// # fn f() -> Result<(), continuum_sdk::activity::SandboxError> {
/// // Fails with code `access` (or similar) unless the manifest's
/// // `allow_hosts` lists "127.0.0.1:8080".
/// let _conn = continuum_sdk::activity::net::connect("127.0.0.1:8080")?;
/// # Ok(()) }
/// ```
pub fn connect(addr: &str) -> Result<TcpConnection, SandboxError> {
    let fail = |e: ErrorCode| SandboxError::new("connect", addr, e.name());
    let (host, port) = addr.rsplit_once(':').ok_or_else(|| SandboxError {
        op: "connect",
        target: addr.to_owned(),
        code: "expected host:port".into(),
    })?;
    let port: u16 = port.parse().map_err(|_| SandboxError {
        op: "connect",
        target: addr.to_owned(),
        code: "bad port".into(),
    })?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let network = instance_network();
    let ip = match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let o = v4.octets();
            IpAddress::Ipv4((o[0], o[1], o[2], o[3]))
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            IpAddress::Ipv6((s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]))
        }
        Err(_) => resolve(&network, host).map_err(|e| SandboxError::new("resolve", host, e.name()))?,
    };
    let (family, remote) = match ip {
        IpAddress::Ipv4(address) => {
            (IpAddressFamily::Ipv4, IpSocketAddress::Ipv4(Ipv4SocketAddress { port, address }))
        }
        IpAddress::Ipv6(address) => (
            IpAddressFamily::Ipv6,
            IpSocketAddress::Ipv6(Ipv6SocketAddress { port, flow_info: 0, address, scope_id: 0 }),
        ),
    };
    let socket = create_tcp_socket(family).map_err(fail)?;
    socket.start_connect(&network, remote).map_err(fail)?;
    let pollable = socket.subscribe();
    loop {
        match socket.finish_connect() {
            Ok((input, output)) => {
                drop(pollable);
                return Ok(TcpConnection { input, output, socket });
            }
            Err(ErrorCode::WouldBlock) => pollable.block(),
            Err(e) => return Err(fail(e)),
        }
    }
}

/// The first address `host` resolves to.
fn resolve(network: &Network, host: &str) -> Result<IpAddress, LookupError> {
    let stream = ip_name_lookup::resolve_addresses(network, host)?;
    let pollable = stream.subscribe();
    loop {
        match stream.resolve_next_address() {
            Ok(Some(ip)) => return Ok(ip),
            Ok(None) => return Err(LookupError::NameUnresolvable),
            Err(LookupError::WouldBlock) => pollable.block(),
            Err(e) => return Err(e),
        }
    }
}

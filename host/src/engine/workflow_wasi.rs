//! The deterministic WASI 0.2 of workflow guests.
//!
//! Toolchains other than Rust's (componentize-py, componentize-js, C with
//! wasi-libc) produce components that import WASI. A workflow may import
//! every WASI 0.2 interface of `wasi:cli/imports` (any 0.2.x version: the
//! component linker matches semver-compatible versions), and each answers so
//! that nothing the guest reaches through WASI makes a replay diverge:
//!
//! | interface | a workflow gets |
//! | --- | --- |
//! | `wasi:clocks/*` | the run's journaled time, as `now` ([`super::wasi_clocks`]) |
//! | `wasi:random/*` | bytes from a journaled per-run seed ([`super::wasi_random`]) |
//! | `wasi:cli/environment` | no variables, no arguments, no working directory |
//! | `wasi:cli/stdin` | an empty stream |
//! | `wasi:cli/stdout`, `stderr` | the run's log, muted on replay ([`super::guest_output`]) |
//! | `wasi:cli/exit` | the run fails with the exit code |
//! | `wasi:filesystem/*` | no preopened directory: nothing to open |
//! | `wasi:sockets/*` | every socket and name lookup refused with an error code |
//! | `wasi:io/*` | streams and polling over the above |
//!
//! `wasi:http` is not provided: a component importing it is refused when
//! it is loaded.
//!
//! The WASI state of a run is built on the guest's first WASI call, so a
//! guest that imports no WASI (a Rust workflow) costs nothing more.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use wasmtime::component::{HasData, HasSelf, Linker, ResourceTable};
use wasmtime_wasi::cli::{WasiCli, WasiCliView as _};
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView as _};
use wasmtime_wasi::p2::bindings as wasi;
use wasmtime_wasi::sockets::{WasiSockets, WasiSocketsView as _};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::guest_output::{GuestOutput, RunLabels, Stream};
use super::run_ctx::RunCtx;

/// A run's WASI context and the guest's WASI resources (streams,
/// pollables).
pub(crate) struct WorkflowWasi {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl WorkflowWasi {
    /// The context of one attempt of a run: no environment, arguments,
    /// preopens or network; stdout and stderr to the run's log, muted
    /// until the guest is past what earlier attempts executed (`live`).
    fn new(labels: RunLabels, live: Arc<AtomicBool>) -> WorkflowWasi {
        let mut builder = WasiCtxBuilder::new();
        builder
            .stdout(GuestOutput::new(Stream::Stdout, labels.clone(), live.clone()))
            .stderr(GuestOutput::new(Stream::Stderr, labels, live))
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        WorkflowWasi { ctx: builder.build(), table: ResourceTable::new() }
    }
}

impl WasiView for RunCtx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let RunCtx { wasi, env, key, workflow, history, .. } = self;
        let wasi = wasi.get_or_insert_with(|| {
            let labels = RunLabels { instance: env.instance.clone(), run_id: key.run_id.clone(), workflow: workflow.clone() };
            Box::new(WorkflowWasi::new(labels, history.caught_up_flag()))
        });
        WasiCtxView { ctx: &mut wasi.ctx, table: &mut wasi.table }
    }
}

impl RunCtx {
    /// The run's WASI context and resources (built on first use).
    pub(crate) fn wasi(&mut self) -> WasiCtxView<'_> {
        WasiView::ctx(self)
    }
}

/// [`HasData`] for `wasi:io`: its host traits are implemented on the
/// resource table.
struct HasIo;

impl HasData for HasIo {
    type Data<'a> = &'a mut ResourceTable;
}

/// Adds the workflow WASI to `linker`: wasmtime-wasi's implementations,
/// configured by [`WorkflowWasi`], except the clocks and randomness, which
/// are journaled by [`RunCtx`].
pub(crate) fn add_to_linker(linker: &mut Linker<RunCtx>) -> wasmtime::Result<()> {
    let l = linker;
    wasi::io::error::add_to_linker::<RunCtx, HasIo>(l, |t| t.wasi().table)?;
    wasi::io::poll::add_to_linker::<RunCtx, HasIo>(l, |t| t.wasi().table)?;
    wasi::io::streams::add_to_linker::<RunCtx, HasIo>(l, |t| t.wasi().table)?;

    wasi::clocks::wall_clock::add_to_linker::<RunCtx, HasSelf<RunCtx>>(l, |t| t)?;
    wasi::clocks::monotonic_clock::add_to_linker::<RunCtx, HasSelf<RunCtx>>(l, |t| t)?;
    wasi::random::random::add_to_linker::<RunCtx, HasSelf<RunCtx>>(l, |t| t)?;
    wasi::random::insecure::add_to_linker::<RunCtx, HasSelf<RunCtx>>(l, |t| t)?;
    wasi::random::insecure_seed::add_to_linker::<RunCtx, HasSelf<RunCtx>>(l, |t| t)?;

    wasi::cli::exit::add_to_linker::<RunCtx, WasiCli>(l, |t| t.cli())?;
    wasi::cli::environment::add_to_linker::<RunCtx, WasiCli>(l, |t| t.cli())?;
    wasi::cli::stdin::add_to_linker::<RunCtx, WasiCli>(l, |t| t.cli())?;
    wasi::cli::stdout::add_to_linker::<RunCtx, WasiCli>(l, |t| t.cli())?;
    wasi::cli::stderr::add_to_linker::<RunCtx, WasiCli>(l, |t| t.cli())?;
    wasi::cli::terminal_input::add_to_linker::<RunCtx, WasiCli>(l, |t| t.cli())?;
    wasi::cli::terminal_output::add_to_linker::<RunCtx, WasiCli>(l, |t| t.cli())?;
    wasi::cli::terminal_stdin::add_to_linker::<RunCtx, WasiCli>(l, |t| t.cli())?;
    wasi::cli::terminal_stdout::add_to_linker::<RunCtx, WasiCli>(l, |t| t.cli())?;
    wasi::cli::terminal_stderr::add_to_linker::<RunCtx, WasiCli>(l, |t| t.cli())?;

    wasi::filesystem::preopens::add_to_linker::<RunCtx, WasiFilesystem>(l, |t| t.filesystem())?;
    wasi::filesystem::types::add_to_linker::<RunCtx, WasiFilesystem>(l, |t| t.filesystem())?;

    let options = wasi::LinkOptions::default();
    wasi::sockets::network::add_to_linker::<RunCtx, WasiSockets>(l, &(&options).into(), |t| t.sockets())?;
    wasi::sockets::instance_network::add_to_linker::<RunCtx, WasiSockets>(l, |t| t.sockets())?;
    wasi::sockets::tcp_create_socket::add_to_linker::<RunCtx, WasiSockets>(l, |t| t.sockets())?;
    wasi::sockets::tcp::add_to_linker::<RunCtx, WasiSockets>(l, |t| t.sockets())?;
    wasi::sockets::udp_create_socket::add_to_linker::<RunCtx, WasiSockets>(l, |t| t.sockets())?;
    wasi::sockets::udp::add_to_linker::<RunCtx, WasiSockets>(l, |t| t.sockets())?;
    wasi::sockets::ip_name_lookup::add_to_linker::<RunCtx, WasiSockets>(l, |t| t.sockets())?;
    Ok(())
}

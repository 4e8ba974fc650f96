//! The bench flow in each guest language: which components there are, what
//! compiling each costs (cold and from the compile cache), and how long
//! instantiating its guest takes (read from the host's `guest instantiated`
//! debug events).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use continuum_host::Instance;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// A guest language's bench flow.
pub struct Language {
    /// `rust`, `python` or `js`.
    pub name: String,
    /// The workflow name it is registered under.
    pub workflow: String,
    /// Its component.
    pub module: PathBuf,
}

/// The languages asked for (comma-separated names) whose component exists
/// under `components`; the others are named as skipped.
pub fn pick(names: &str, rust_module: &Path, components: &Path) -> Vec<Language> {
    let mut out = Vec::new();
    for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let (workflow, module) = match name {
            "rust" => ("bench-flow".to_string(), rust_module.to_path_buf()),
            "python" | "js" => (format!("bench-flow-{name}"), components.join(format!("{name}_bench_flow.wasm"))),
            other => {
                eprintln!("continuum-bench: unknown language `{other}` (rust, python, js); skipped");
                continue;
            }
        };
        if !module.exists() {
            eprintln!("continuum-bench: {} is missing; {name} skipped (build the guests first)", module.display());
            continue;
        }
        out.push(Language { name: name.to_string(), workflow, module });
    }
    out
}

/// Builds a throwaway instance holding only `lang`'s workflow, twice with
/// one fresh compile cache: the first build compiles the component, the
/// second loads it from the cache. Returns both times.
pub async fn compile_times(lang: &Language, url: &str) -> (Duration, Duration) {
    let cache = std::env::temp_dir().join(format!("continuum-bench-cache-{}", uuid::Uuid::new_v4().simple()));
    let mut times = Vec::new();
    for _ in 0..2 {
        let t0 = Instant::now();
        let built = Instance::builder(format!("compile-{}", lang.name))
            .database(url.to_string())
            .cache_dir(&cache)
            .workflow(lang.workflow.clone(), &lang.module)
            .build()
            .await;
        times.push(t0.elapsed());
        if let Err(e) = built {
            panic!("loading {}: {e}", lang.module.display());
        }
    }
    let _ = std::fs::remove_dir_all(&cache);
    (times[0], times[1])
}

/// Instantiation times (µs) the host reported since the last [`take`].
static INSTANTIATIONS: Mutex<Vec<u64>> = Mutex::new(Vec::new());

/// The instantiation times recorded since the last call, sorted.
pub fn take_instantiations() -> Vec<Duration> {
    let mut v: Vec<Duration> = match INSTANTIATIONS.lock() {
        Ok(mut v) => v.drain(..).map(Duration::from_micros).collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

/// Logs warnings as the host does, and records the `micros` of every
/// `guest instantiated` event.
pub fn init_tracing() {
    let filter = EnvFilter::new("warn,continuum_host::engine::run=debug");
    let fmt = tracing_subscriber::fmt::layer().with_filter(EnvFilter::new("warn"));
    let _ = tracing_subscriber::registry().with(fmt).with(Instantiations.with_filter(filter)).try_init();
}

/// The layer behind [`take_instantiations`].
struct Instantiations;

impl<S: tracing::Subscriber> Layer<S> for Instantiations {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        #[derive(Default)]
        struct Fields {
            instantiated: bool,
            micros: Option<u64>,
        }
        impl Visit for Fields {
            fn record_u64(&mut self, field: &Field, value: u64) {
                if field.name() == "micros" {
                    self.micros = Some(value);
                }
            }
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" && format!("{value:?}") == "guest instantiated" {
                    self.instantiated = true;
                }
            }
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        if let (true, Some(micros)) = (fields.instantiated, fields.micros) {
            if let Ok(mut v) = INSTANTIATIONS.lock() {
                v.push(micros);
            }
        }
    }
}

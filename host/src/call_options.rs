//! The options of the facade's verbs: which instance (and, to start, which
//! run id).

/// Options of [`crate::Continuum::start`].
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// The instance; the default instance when `None`.
    pub instance: Option<String>,
    /// The run id; a new UUID when `None`.
    pub run_id: Option<String>,
    /// What a start under a run id that exists does when the run has the
    /// same workflow and input (with another, it is always a conflict).
    pub if_exists: IfExists,
}

/// What starting a run under an id that exists does when that run has the
/// same workflow and input: a retrying client's second start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IfExists {
    /// Returns the existing run and says so ([`Started::existed`]).
    #[default]
    Return,
    /// Fails with [`crate::Error::RunExists`].
    Fail,
}

/// A started run, as [`crate::Continuum::start_run`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// The run id.
    pub run_id: String,
    /// The run existed already, with the same workflow and input: this
    /// start created nothing.
    pub existed: bool,
}

/// Options of [`crate::Continuum::send_signal`].
#[derive(Debug, Clone, Default)]
pub struct SignalOptions {
    /// The instance; the default instance when `None`.
    pub instance: Option<String>,
    /// With a key the run receives the signal once, however often it is
    /// sent (at most [`crate::MAX_SIGNAL_KEY_CHARS`] characters).
    pub idempotency_key: Option<String>,
}

/// A sent signal, as [`crate::Continuum::send_signal`] returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalSent {
    /// The run had received this signal (same idempotency key, name and
    /// payload) before: nothing was sent now.
    pub duplicate: bool,
}

/// Options of the verbs that address an existing run.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// The instance; the default instance when `None`.
    pub instance: Option<String>,
}

impl CallOptions {
    /// Addresses the named instance.
    pub fn instance(name: impl Into<String>) -> Self {
        Self { instance: Some(name.into()) }
    }
}

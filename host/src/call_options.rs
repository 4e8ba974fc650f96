//! The options of the facade's verbs: which instance (and, to start, which
//! run id).

/// Options of [`crate::Continuum::start`].
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// The instance; the default instance when `None`.
    pub instance: Option<String>,
    /// The run id; a new UUID when `None`.
    pub run_id: Option<String>,
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

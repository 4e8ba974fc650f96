//! What a caller asked of a run while its engine executes it, as the
//! engine watches for it: a cancellation (delivered to the workflow, which
//! may clean up) or a termination (the guest is stopped at once).

/// What was asked of a run executing here: nothing, a cancellation (to
/// deliver to the workflow, which may clean up), or a termination (stop
/// the guest at once). A termination outranks a cancellation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum StopRequest {
    /// Nothing.
    #[default]
    None,
    /// Deliver a cancellation.
    Cancel,
    /// Stop at once.
    Terminate,
}

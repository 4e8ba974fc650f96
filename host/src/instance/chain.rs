//! Chains of runs (continue-as-new): a caller that holds the id of an
//! earlier run of a chain reaches the chain's latest run, as a Temporal
//! caller reaches a workflow through its workflow id.

use crate::journal::{RunKey, RunRecord, RunState};
use crate::Error;

use super::Instance;

/// Links followed at most from one run (a chain is acyclic: ids grow with
/// the position; the bound only guards against a corrupt database).
const MAX_LINKS: usize = 1_000_000;

impl Instance {
    /// The latest run of the chain `run_id` belongs to, from `run_id` on:
    /// `run_id` itself unless it ended `continued`
    /// ([`Error::UnknownRun`] when there is no such run).
    pub(crate) async fn chain_end(&self, run_id: &str) -> Result<RunRecord, Error> {
        let key = RunKey::new(self.name(), run_id);
        let mut run = self.journal().get_run(&key).await?.ok_or_else(|| Error::unknown_run(&key))?;
        for _ in 0..MAX_LINKS {
            let next = match (&run.state, &run.continued_to) {
                (RunState::Continued, Some(next)) => RunKey::new(self.name(), next.clone()),
                _ => return Ok(run),
            };
            run = self.journal().get_run(&next).await?.ok_or_else(|| Error::unknown_run(&next))?;
        }
        Ok(run)
    }
}

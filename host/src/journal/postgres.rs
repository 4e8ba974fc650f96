use super::*; use std::time::Duration; use chrono::{DateTime, Utc}; use serde_json::Value;
// scaffold
pub struct PostgresJournal;
impl PostgresJournal { pub async fn connect(_u: &str, _m: u32) -> Result<Self, super::JournalError> { unimplemented!() } }

#[async_trait::async_trait]
impl super::Journal for PostgresJournal {
    #[allow(unused_variables)]
    fn kind(&self) -> &'static str { unimplemented!() }
    #[allow(unused_variables)]
    async fn migrate(&self) -> Result<(), JournalError> { unimplemented!() }
    #[allow(unused_variables)]
    async fn create_run(
        &self,
        run: &NewRun,
        lease: Option<(&str, Duration)>,
    ) -> Result<Option<Lease>, JournalError> { unimplemented!() }
    #[allow(unused_variables)]
    async fn get_run(&self, key: &RunKey) -> Result<Option<RunRecord>, JournalError> { unimplemented!() }
    #[allow(unused_variables)]
    async fn list_runs(&self, instance: &str, limit: i64) -> Result<Vec<RunRecord>, JournalError> { unimplemented!() }
    #[allow(unused_variables)]
    async fn load_events(&self, key: &RunKey) -> Result<Vec<Event>, JournalError> { unimplemented!() }
    #[allow(unused_variables)]
    async fn find_ready_runs(
        &self,
        instance: &str,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<RunKey>, JournalError> { unimplemented!() }
    #[allow(unused_variables)]
    async fn acquire_lease(
        &self,
        key: &RunKey,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<(Lease, RunRecord)>, JournalError> { unimplemented!() }
    #[allow(unused_variables)]
    async fn renew_leases(
        &self,
        leases: &[(RunKey, Lease)],
        ttl: Duration,
    ) -> Result<Vec<bool>, JournalError> { unimplemented!() }
    #[allow(unused_variables)]
    async fn release_lease(&self, key: &RunKey, lease: &Lease) -> Result<bool, JournalError> { unimplemented!() }
    #[allow(unused_variables)]
    async fn commit(&self, writes: &[RunWrite]) -> Result<Vec<bool>, JournalError> { unimplemented!() }
    #[allow(unused_variables)]
    async fn send_signal(
        &self,
        key: &RunKey,
        name: &str,
        payload: &Value,
    ) -> Result<i64, JournalError> { unimplemented!() }
    #[allow(unused_variables)]
    async fn inbox(&self, key: &RunKey) -> Result<Vec<InboxSignal>, JournalError> { unimplemented!() }
    #[allow(unused_variables)]
    async fn request_cancel(&self, key: &RunKey) -> Result<CancelRequest, JournalError> { unimplemented!() }
    #[allow(unused_variables)]
    async fn fire_due_timers(
        &self,
        instance: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<RunKey>, JournalError> { unimplemented!() }
    #[allow(unused_variables)]
    async fn next_timer_at(&self, instance: &str) -> Result<Option<DateTime<Utc>>, JournalError> { unimplemented!() }
    #[allow(unused_variables)]
    async fn claim_tasks(
        &self,
        instance: &str,
        queues: &[String],
        names: &[String],
        owner: &str,
        ttl: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedTask>, JournalError> { unimplemented!() }
    #[allow(unused_variables)]
    async fn complete_task(
        &self,
        key: &RunKey,
        op: u32,
        claim_token: i64,
        outcome: &TaskOutcome,
    ) -> Result<bool, JournalError> { unimplemented!() }
    #[allow(unused_variables)]
    async fn task_outcomes(&self, key: &RunKey) -> Result<Vec<(u32, TaskOutcome)>, JournalError> { unimplemented!() }
    #[allow(unused_variables)]
    async fn listen(&self, instance: &str) -> Result<WakeStream, JournalError> { unimplemented!() }
}

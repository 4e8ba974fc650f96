//! Reading runs through the facade: a run's record, its typed history, an
//! instance's latest runs; and compacting a run's history into a snapshot.
//! Nothing here lets a caller change what a run recorded.

use crate::input_limits::check_run_id;
use crate::journal::{self, JournalError, RunKey};
use crate::views::OpenActivity;
use crate::{CallOptions, Continuum, Error, HistoryEvent, RunHistory, RunInfo, RunQuery};

impl Continuum {
    /// A run's record: its workflow, module version, state, result and
    /// lease (one read; see [`Continuum::history`] for its journal).
    pub async fn run_info(&self, run_id: &str, opts: CallOptions) -> Result<RunInfo, Error> {
        check_run_id(run_id)?;
        let inst = self.instance(opts.instance.as_deref())?;
        let key = RunKey::new(inst.name(), run_id);
        let run = inst.journal().get_run(&key).await?.ok_or_else(|| Error::unknown_run(&key))?;
        let shown = with_attributes(inst.journal(), inst.name(), vec![run]).await?;
        shown.into_iter().next().ok_or_else(|| Error::unknown_run(&key))
    }

    /// The latest run of the chain `run_id` belongs to (continue-as-new):
    /// the run itself unless it continued as new. Its state and result are
    /// the chain's.
    pub async fn chain_end(&self, run_id: &str, opts: CallOptions) -> Result<RunInfo, Error> {
        check_run_id(run_id)?;
        let inst = self.instance(opts.instance.as_deref())?;
        Ok(inst.chain_end(run_id).await?.into())
    }

    /// A run's record, its journal in order (read through its snapshot
    /// when it has a sound one) and the heartbeats of its activity calls in
    /// progress, its activity calls without an outcome yet (naming those
    /// no live host serves), the child runs it started and the runs of its
    /// chain (continue-as-new): what
    /// `continuum show` prints.
    pub async fn history(&self, run_id: &str, opts: CallOptions) -> Result<RunHistory, Error> {
        check_run_id(run_id)?;
        let inst = self.instance(opts.instance.as_deref())?;
        let key = RunKey::new(inst.name(), run_id);
        let journal = inst.journal();
        let run = journal.get_run(&key).await?.ok_or_else(|| Error::unknown_run(&key))?;
        let events = journal::load_history(journal, &key).await?.events;
        let heartbeats = journal.heartbeats(&key).await?;
        let tasks = journal.open_tasks(&key).await?;
        let workers = if tasks.is_empty() { Vec::new() } else { journal.live_workers(inst.name()).await? };
        let open = tasks.into_iter().map(|t| OpenActivity::new(t, &workers)).collect();
        let children = journal.children(&key).await?;
        let chain = if run.chain_root.is_some() || run.continued_to.is_some() {
            journal.chain(inst.name(), run.chain_root()).await?
        } else {
            Vec::new()
        };
        let mut history = RunHistory::new(run, events, heartbeats, open, children, chain);
        history.resets = journal.resets(&key).await?.into_iter().map(crate::RunReset::from).collect();
        if let Some(attributes) = journal.attributes(inst.name(), std::slice::from_ref(&key.run_id)).await?.remove(&key.run_id) {
            history.run.attributes = attributes;
        }
        Ok(history)
    }

    /// The instance's latest `limit` runs, newest first.
    pub async fn runs(&self, limit: usize, opts: CallOptions) -> Result<Vec<RunInfo>, Error> {
        let inst = self.instance(opts.instance.as_deref())?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let runs = inst.journal().list_runs(inst.name(), limit).await?;
        with_attributes(inst.journal(), inst.name(), runs).await
    }

    /// The instance's runs matching `query` (state, workflow, creation
    /// time, parent, attributes), each with its attributes, newest first, after its cursor: a page of a listing. A
    /// `query.limit` below 1 lists nothing.
    pub async fn query_runs(&self, query: &RunQuery, opts: CallOptions) -> Result<Vec<RunInfo>, Error> {
        let inst = self.instance(opts.instance.as_deref())?;
        if query.limit < 1 {
            return Ok(Vec::new());
        }
        let runs = inst.journal().query_runs(inst.name(), query).await?;
        with_attributes(inst.journal(), inst.name(), runs).await
    }

    /// A page of a run's journal: at most `limit` entries after `after_seq`
    /// (0: from the start), in order. [`Error::UnknownRun`] if the run does
    /// not exist.
    pub async fn journal_page(
        &self,
        run_id: &str,
        after_seq: i64,
        limit: i64,
        opts: CallOptions,
    ) -> Result<Vec<HistoryEvent>, Error> {
        check_run_id(run_id)?;
        let inst = self.instance(opts.instance.as_deref())?;
        let key = RunKey::new(inst.name(), run_id);
        let journal = inst.journal();
        let events = journal.events_page(&key, after_seq.max(0), limit.max(0)).await?;
        // An empty page of a run that does not exist is an unknown run.
        if events.is_empty() && journal.get_run(&key).await?.is_none() {
            return Err(Error::unknown_run(&key));
        }
        Ok(events.into_iter().map(HistoryEvent::from).collect())
    }

    /// The instance's runs changed (state, lease, anything) at or after
    /// `since`, oldest change first, at most `limit`: what a stream of
    /// state changes polls. A change committed in a transaction that began
    /// earlier may carry an earlier time: look back a little.
    pub async fn runs_updated_since(
        &self,
        since: chrono::DateTime<chrono::Utc>,
        limit: i64,
        opts: CallOptions,
    ) -> Result<Vec<RunInfo>, Error> {
        let inst = self.instance(opts.instance.as_deref())?;
        let runs = inst.journal().runs_updated_since(inst.name(), since, limit.max(0)).await?;
        Ok(runs.into_iter().map(RunInfo::from).collect())
    }

    /// Whether the instance's database answers: one round trip.
    pub async fn ping(&self, opts: CallOptions) -> Result<(), Error> {
        let inst = self.instance(opts.instance.as_deref())?;
        Ok(inst.journal().ping().await?)
    }

    /// Compacts the run's journal so far into a snapshot (what the
    /// snapshotter child does past its threshold), so loading the run reads
    /// one row and the entries after it. Returns the last `seq` covered.
    /// The journal itself is unchanged; a snapshot that does not verify is
    /// ignored on load.
    pub async fn snapshot(&self, run_id: &str, opts: CallOptions) -> Result<i64, Error> {
        check_run_id(run_id)?;
        let inst = self.instance(opts.instance.as_deref())?;
        let key = RunKey::new(inst.name(), run_id);
        let journal = inst.journal();
        let run = journal.get_run(&key).await?.ok_or_else(|| Error::unknown_run(&key))?;
        let history = journal::load_history(journal, &key).await?;
        let snapshot = journal::make_snapshot(&history.events)
            .map_err(|e| JournalError::Corrupt { key: key.to_string(), detail: format!("cannot encode a snapshot: {e}") })?;
        journal.put_snapshot(&key, &snapshot).await?;
        tracing::info!(instance = %key.instance, run_id, workflow = %run.workflow, upto_seq = snapshot.upto_seq, "snapshot written");
        Ok(snapshot.upto_seq)
    }
}

/// The runs as the facade shows them, each with its attributes (one read
/// for all of them).
async fn with_attributes(
    journal: &crate::journal::SharedJournal,
    instance: &str,
    runs: Vec<crate::journal::RunRecord>,
) -> Result<Vec<RunInfo>, Error> {
    let ids: Vec<String> = runs.iter().map(|r| r.key.run_id.clone()).collect();
    let mut attributes = if ids.is_empty() { Default::default() } else { journal.attributes(instance, &ids).await? };
    Ok(runs
        .into_iter()
        .map(|r| {
            let found = attributes.remove(&r.key.run_id);
            let mut info = RunInfo::from(r);
            info.attributes = found.unwrap_or_default();
            info
        })
        .collect())
}

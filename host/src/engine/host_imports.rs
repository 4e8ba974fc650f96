//! The `host` interface of the WIT contract, implemented on [`RunCtx`].
//! While the run replays, every import answers from the journal; once the
//! journal is exhausted, imports act for real and append to it.


use chrono::{TimeZone, Utc};
use serde_json::Value;

use crate::journal::{
    ActivityOptions, EventBody, FailureKind, RetryPolicy, TaskOutcome, Transition,
};

use super::bindings::workflow::continuum::workflow::{host, types};
use super::interrupt::Interrupt;
use super::replay::{Command, Outcome, Replayed};
use super::run_ctx::{LiveOp, RunCtx};
use super::StopRequest;

type HostResult<T> = wasmtime::Result<T>;

impl types::Host for RunCtx {}

fn to_options(o: types::ActivityOptions) -> ActivityOptions {
    ActivityOptions {
        retry: o.retry.map(|r| RetryPolicy {
            max_attempts: r.max_attempts,
            initial_interval_ms: r.initial_interval_ms,
            backoff_coefficient: r.backoff_coefficient,
            max_interval_ms: r.max_interval_ms,
            jitter: r.jitter,
            horizon_ms: r.horizon_ms,
            non_retryable_codes: r.non_retryable_codes,
        }),
        attempt_timeout_ms: o.attempt_timeout_ms,
        heartbeat_timeout_ms: o.heartbeat_timeout_ms,
        queue: o.queue,
        priority: o.priority,
        idempotency_key: o.idempotency_key,
        schedule_to_start_timeout_ms: None,
    }
}

fn to_completion(outcome: &Outcome) -> types::Completion {
    match outcome {
        Outcome::Ok(v) => types::Completion::Ok(serde_json::to_vec(v).unwrap_or_default()),
        Outcome::Err(f) => types::Completion::Err(types::Failure {
            kind: match f.kind {
                FailureKind::ActivityFailed => types::FailureKind::ActivityFailed,
                FailureKind::TimedOut => types::FailureKind::TimedOut,
                FailureKind::Cancelled => types::FailureKind::Cancelled,
                FailureKind::UnknownActivity => types::FailureKind::UnknownActivity,
            },
            message: f.message.clone(),
            attempts: f.attempts,
            code: f.code.clone(),
        }),
    }
}

pub(super) fn task_event(op: u32, outcome: TaskOutcome) -> EventBody {
    match outcome {
        TaskOutcome::Completed { output, attempts } => {
            EventBody::ActivityCompleted { op, output, attempts }
        }
        TaskOutcome::Failed(failure) => EventBody::ActivityFailed { op, failure },
    }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

impl RunCtx {
    /// Reads the clock, journaled: the time in milliseconds since the Unix
    /// epoch, recorded live and answered from the journal on replay. Both
    /// `now` and the guest's WASI clocks read it here, so they agree.
    pub(crate) fn read_clock(&mut self) -> Result<u64, Interrupt> {
        match self.command(Command::Clock)?.1 {
            Replayed::Recorded(EventBody::ClockRead { value_ms }) => Ok(value_ms),
            _ => {
                let value_ms = now_ms().max(0) as u64;
                self.append(EventBody::ClockRead { value_ms });
                Ok(value_ms)
            }
        }
    }

    /// Draws a random 64-bit number, journaled like [`RunCtx::read_clock`]:
    /// `random`, and the seed of the guest's WASI randomness.
    pub(crate) fn draw_random(&mut self) -> Result<u64, Interrupt> {
        match self.command(Command::Random)?.1 {
            Replayed::Recorded(EventBody::RandomDrawn { value }) => Ok(value),
            _ => {
                let value = rand::random::<u64>();
                self.append(EventBody::RandomDrawn { value });
                Ok(value)
            }
        }
    }

    pub(super) fn command(&mut self, cmd: Command) -> Result<(u32, Replayed), Interrupt> {
        // After continue-as-new nothing may start; the clock and random
        // draws a language runtime makes on its own while the workflow
        // returns (StarlingMonkey reads the clock) are journaled as usual.
        if !matches!(cmd, Command::Clock | Command::Random | Command::Uuid) {
            self.check_not_continued(|| cmd.describe())?;
        }
        self.check_cancel()?;
        let next = self.history.next_command(&cmd).map_err(Interrupt::Drift)?;
        if next.1 == Replayed::Live {
            // A query execution: the guest goes on past the journal (to the
            // wait it blocks at), and nothing it starts is recorded or
            // executed (nothing is committed, activities never start).
            if self.query.is_some() {
                return Ok(next);
            }
            if self.check_only {
                return Err(Interrupt::ReplayEnd);
            }
            // What the step records must fit the run's journal limits.
            self.check_journal_limits()?;
            // A cancellation asked for is delivered before the step: the
            // step itself (a clean-up's) is not cancelled.
            if self.cancel_undelivered() {
                // This command's operation is numbered already: not one
                // started before the cancellation.
                self.deliver_cancel_before(next.0, &cmd);
            }
        }
        Ok(next)
    }

    /// [`RunCtx::deliver_cancel`] at a live command whose operation (if it
    /// starts one) is `op`: that operation is the command's own, not one
    /// the cancellation completes.
    fn deliver_cancel_before(&mut self, op: u32, cmd: &Command) {
        let starts_op =
            matches!(cmd, Command::Activity { .. } | Command::Timer { .. } | Command::Signal { .. } | Command::Child { .. });
        self.deliver_cancel_except(starts_op.then_some(op));
    }

    /// Resolves an operation live, without blocking: appends its completion
    /// to the journal when it is available now.
    async fn resolve_live(&mut self, op: u32) -> Result<Option<Outcome>, Interrupt> {
        let body = match self.ops.get_mut(&op) {
            None => return Err(Interrupt::Contract(format!("unknown handle {op}"))),
            Some(LiveOp::EagerScheduled) => return Ok(None),
            Some(LiveOp::Cancelled) => return Ok(self.history.completion(op).map(|(_, o)| o.clone())),
            Some(LiveOp::EagerActivity(handle, _)) => {
                match handle.take() {
                    Some(h) if h.is_finished() => {
                        let result = h.await;
                        self.finish_eager(op, result);
                        return Ok(self.history.completion(op).map(|(_, o)| o.clone()));
                    }
                    other => {
                        *handle = other;
                        return Ok(None);
                    }
                }
            }
            Some(LiveOp::DurableActivity) => {
                if self.outcomes_cache.is_none() {
                    self.outcomes_cache = Some(self.env.journal.task_outcomes(&self.key).await?);
                }
                let found = self
                    .outcomes_cache
                    .as_ref()
                    .and_then(|c| c.iter().find(|(o, _)| *o == op).map(|(_, t)| t.clone()));
                match found {
                    Some(outcome) => task_event(op, outcome),
                    None => return Ok(None),
                }
            }
            Some(LiveOp::Timer { fire_at_ms }) => {
                if *fire_at_ms > now_ms() {
                    return Ok(None);
                }
                tracing::info!(op, "timer fired");
                EventBody::TimerFired { op }
            }
            Some(LiveOp::Child { run_id }) => {
                let run_id = run_id.clone();
                match self.child_outcome(op, &run_id).await? {
                    Some(body) => body,
                    None => return Ok(None),
                }
            }
            Some(LiveOp::Signal { name }) => {
                let name = name.clone();
                if self.inbox_cache.is_none() {
                    self.inbox_cache = Some(self.env.journal.inbox(&self.key).await?);
                }
                let found = self.inbox_cache.as_ref().and_then(|inbox| {
                    inbox
                        .iter()
                        .find(|s| s.name == name && !self.history.signal_consumed(s.id))
                        .cloned()
                });
                match found {
                    Some(sig) => {
                        self.pending.consumed_signals.push(sig.id);
                        tracing::info!(signal = %name, signal_id = sig.id, update_id = sig.update_id.as_deref(), "signal received");
                        EventBody::SignalReceived {
                            op,
                            name,
                            payload: sig.payload,
                            signal_id: sig.id,
                            update_id: sig.update_id,
                        }
                    }
                    None => return Ok(None),
                }
            }
        };
        self.append(body);
        Ok(self.history.completion(op).map(|(_, o)| o.clone()))
    }

    /// Blocks until one of `ops` completes; returns its position and outcome.
    async fn wait_for(&mut self, ops: &[u32]) -> Result<(usize, Outcome), Interrupt> {
        self.check_not_continued(|| "wait".into())?;
        if ops.is_empty() {
            return Err(Interrupt::Contract("wait-any on an empty list".into()));
        }
        for op in ops {
            if !self.history.knows_op(*op) {
                return Err(Interrupt::Contract(format!("unknown handle {op}")));
            }
        }
        self.inbox_cache = None;
        self.outcomes_cache = None;
        loop {
            self.check_cancel()?;
            if !self.history.replaying() && !self.check_only {
                // Live (the wait the previous attempt stopped at, or a new
                // one): a cancellation asked for is delivered here, and the
                // operations waited on complete as cancelled.
                self.deliver_cancel_except(None);
            }
            // Completions already in the journal: the earliest recorded wins,
            // which is what the live run saw first.
            let recorded = ops
                .iter()
                .enumerate()
                .filter_map(|(i, op)| self.history.completion(*op).map(|(seq, o)| (*seq, i, o.clone())))
                .min_by_key(|(seq, _, _)| *seq);
            if let Some((_, i, outcome)) = recorded {
                return Ok((i, outcome));
            }
            if self.check_only && !self.history.replaying() {
                return Err(Interrupt::ReplayEnd);
            }
            if self.history.replaying() {
                // The live run got past this wait, so one of these must have
                // completed in the journal: the module has changed.
                let found = format!("a wait on operations {ops:?}, none of which completed");
                return Err(Interrupt::Drift(self.history.drift_here(found)));
            }
            // The previous attempt suspended here (or never got here):
            // from now on the guest does what was not done before.
            self.history.go_live();
            // Eager calls made since the last wait start now, once their
            // schedules are committed.
            self.start_scheduled().await?;
            // Paused meanwhile: the run takes no new step; it suspends
            // here (taking in what its activities running here return),
            // its lease released, and no host claims it until resumed.
            if self.pause.is_set() {
                tracing::info!("run paused: suspended at its wait");
                return Err(self.suspend().await);
            }
            for (i, op) in ops.iter().enumerate() {
                if let Some(outcome) = self.resolve_live(*op).await? {
                    // Committed before the run's next effect on the world
                    // (`commit_taken`), so a crash never repeats a step
                    // whose result a later step depended on.
                    self.taken_uncommitted = true;
                    return Ok((i, outcome));
                }
            }
            // Asked to stop, or to be cancelled, or past the clean-up's
            // deadline meanwhile: to the top of the loop, which terminates
            // or delivers.
            let mut stop = self.stop.clone();
            let delivered = self.history.cancel_deadline_ms().is_some();
            let deadline = self.history.cancel_deadline_ms().map(|ms| {
                let left = ms.saturating_sub(Utc::now().timestamp_millis()).max(0) as u64;
                tokio::time::Instant::now() + std::time::Duration::from_millis(left)
            });
            // Children started since the last commit start once it is
            // made: before waiting in memory on activities running here.
            let in_memory = self.ops.iter().any(|(op, l)| ops.contains(op) && matches!(l, LiveOp::EagerActivity(Some(_), _)));
            if in_memory && !self.pending.children.is_empty() {
                self.flush(None).await?;
            }
            // An activity running here: wait in memory for one to finish.
            let mut running = Vec::new();
            for (op, live) in self.ops.iter_mut() {
                if let LiveOp::EagerActivity(Some(h), _) = live {
                    if ops.contains(op) {
                        running.push((*op, h));
                    }
                }
            }
            if running.is_empty() {
                return Err(self.suspend().await);
            }
            let (done_ops, handles): (Vec<u32>, Vec<_>) = running.into_iter().unzip();
            let (result, idx) = tokio::select! {
                (result, idx, _) = futures::future::select_all(handles) => (result, idx),
                _ = stop.wait_for(|s| *s == StopRequest::Terminate || (!delivered && *s == StopRequest::Cancel)) => continue,
                _ = async {
                    match deadline {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                } => continue,
            };
            self.finish_eager(done_ops[idx], result);
            // Committed before the run's next effect (see above).
            self.taken_uncommitted = true;
        }
    }

    /// Commits the run's state and suspends it; returns the interrupt that
    /// unwinds the guest.
    async fn suspend(&mut self) -> Interrupt {
        // Activities running here must not be lost: take their results in.
        let eager: Vec<u32> = self
            .ops
            .iter()
            .filter_map(|(op, l)| matches!(l, LiveOp::EagerActivity(Some(_), _)).then_some(*op))
            .collect();
        let mut eager = eager;
        eager.sort_unstable();
        for op in eager {
            if let Some(LiveOp::EagerActivity(Some(h), _)) = self.ops.get_mut(&op) {
                let result = h.await;
                self.finish_eager(op, result);
            }
        }
        let wake_at = self
            .next_timer_ms()
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single());
        let transition = Transition::Suspend { wake_at, seen_wake_gen: self.seen_wake_gen };
        match self.flush(Some(transition)).await {
            Ok(()) => Interrupt::Suspended,
            Err(e) => e,
        }
    }

    /// Schedules an activity call (`call-activity` and
    /// `call-activity-ext`): journals it live, or takes its recorded
    /// schedule on replay, and starts it here or as a durable task.
    async fn schedule(&mut self, name: String, input: Vec<u8>, options: ActivityOptions) -> HostResult<u32> {
        let input: Value = RunCtx::decode(&format!("the input of activity `{name}`"), &input)
            .map_err(Interrupt::trap)?;
        let (op, replayed) = self
            .command(Command::Activity { name: name.clone() })
            .map_err(Interrupt::trap)?;
        // Executed here only if this host serves the call's queue too:
        // a queue names the workers meant to run it.
        let local = self.env.local_executor(&name, options.queue.as_deref().unwrap_or("default"));
        match replayed {
            Replayed::Recorded(EventBody::ActivityScheduled { eager: true, .. })
                if self.history.completion(op).is_none() && !self.check_only =>
            {
                // It ran on a host that is gone, and its outcome with it
                // (or its retries are a durable task already: that one is
                // kept).
                self.requeue_lost(op, name, input, options);
            }
            Replayed::Recorded(_) => {
                self.ops.insert(op, LiveOp::DurableActivity);
            }
            Replayed::Live => {
                self.append(EventBody::ActivityScheduled {
                    op,
                    name: name.clone(),
                    input: input.clone(),
                    options: options.clone(),
                    eager: local.is_some(),
                });
                if local.is_none() {
                    // The results the task may depend on are durable before
                    // it can start (an eager call waits for the commit at
                    // the guest's next wait instead).
                    self.commit_taken().await.map_err(Interrupt::trap)?;
                }
                self.schedule_activity(op, name, input, options, local);
            }
        }
        Ok(op)
    }
}

impl host::Host for RunCtx {
    async fn call_activity(
        &mut self,
        name: String,
        input: Vec<u8>,
        options: types::ActivityOptions,
    ) -> HostResult<u32> {
        self.schedule(name, input, to_options(options)).await
    }

    async fn call_activity_ext(
        &mut self,
        name: String,
        input: Vec<u8>,
        options: types::ActivityOptions,
        ext: types::ActivityOptionsExt,
    ) -> HostResult<u32> {
        let options = ActivityOptions { schedule_to_start_timeout_ms: ext.schedule_to_start_timeout_ms, ..to_options(options) };
        self.schedule(name, input, options).await
    }

    async fn start_timer(&mut self, duration_ms: u64) -> HostResult<u32> {
        let (op, replayed) = self.command(Command::Timer { duration_ms }).map_err(Interrupt::trap)?;
        let fire_at_ms = match replayed {
            Replayed::Recorded(EventBody::TimerStarted { fire_at_ms, .. }) => fire_at_ms,
            _ => {
                let fire_at_ms = now_ms().saturating_add(duration_ms.min(i64::MAX as u64) as i64);
                self.append(EventBody::TimerStarted { op, duration_ms, fire_at_ms });
                tracing::debug!(op, duration_ms, "timer scheduled");
                fire_at_ms
            }
        };
        self.ops.insert(op, LiveOp::Timer { fire_at_ms });
        Ok(op)
    }

    async fn receive_signal(&mut self, name: String) -> HostResult<u32> {
        let (op, replayed) = self
            .command(Command::Signal { name: name.clone() })
            .map_err(Interrupt::trap)?;
        if let Replayed::Live = replayed {
            self.append(EventBody::SignalRequested { op, name: name.clone() });
        }
        self.ops.insert(op, LiveOp::Signal { name });
        Ok(op)
    }

    async fn wait(&mut self, op: u32) -> HostResult<types::Completion> {
        let (_, outcome) = self.wait_for(&[op]).await.map_err(Interrupt::trap)?;
        Ok(to_completion(&outcome))
    }

    async fn wait_any(&mut self, ops: Vec<u32>) -> HostResult<(u32, types::Completion)> {
        let (i, outcome) = self.wait_for(&ops).await.map_err(Interrupt::trap)?;
        Ok((i as u32, to_completion(&outcome)))
    }

    async fn now(&mut self) -> HostResult<u64> {
        self.read_clock().map_err(Interrupt::trap)
    }

    async fn random(&mut self) -> HostResult<u64> {
        self.draw_random().map_err(Interrupt::trap)
    }

    async fn uuid(&mut self) -> HostResult<String> {
        match self.command(Command::Uuid).map_err(Interrupt::trap)?.1 {
            Replayed::Recorded(EventBody::UuidDrawn { value }) => Ok(value),
            _ => {
                let value = uuid::Uuid::new_v4().to_string();
                self.append(EventBody::UuidDrawn { value: value.clone() });
                Ok(value)
            }
        }
    }

    async fn patched(&mut self, name: String) -> HostResult<bool> {
        self.check_not_continued(|| "patched()".into()).map_err(Interrupt::trap)?;
        self.check_cancel().map_err(Interrupt::trap)?;
        match self.history.patched(&name) {
            Some(taken) => Ok(taken),
            // A query execution past the journal: the new path, unrecorded.
            None if self.query.is_some() => Ok(true),
            None if self.check_only => Err(Interrupt::ReplayEnd.trap()),
            None => {
                self.check_journal_limits().map_err(Interrupt::trap)?;
                self.append(EventBody::PatchMarker { name });
                Ok(true)
            }
        }
    }

    async fn log(&mut self, level: types::LogLevel, message: String) -> HostResult<()> {
        if message.starts_with("panic: ") {
            self.last_panic = Some(message.clone());
        }
        // Muted for what an earlier attempt already executed (and logged),
        // and in a query execution (nothing it does is the run's).
        if !self.history.caught_up() || self.query.is_some() {
            return Ok(());
        }
        let (instance, run_id, workflow) = (&*self.env.instance, &self.key.run_id, &self.workflow);
        match level {
            types::LogLevel::Trace => tracing::trace!(target: "continuum::guest", instance, run_id, workflow, "{message}"),
            types::LogLevel::Debug => tracing::debug!(target: "continuum::guest", instance, run_id, workflow, "{message}"),
            types::LogLevel::Info => tracing::info!(target: "continuum::guest", instance, run_id, workflow, "{message}"),
            types::LogLevel::Warn => tracing::warn!(target: "continuum::guest", instance, run_id, workflow, "{message}"),
            types::LogLevel::Error => tracing::error!(target: "continuum::guest", instance, run_id, workflow, "{message}"),
        }
        Ok(())
    }
}

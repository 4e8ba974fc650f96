//! The `update` verbs of the facade: an update is a signal whose sender
//! waits for the workflow's reply. It is stored like a signal (durable,
//! delivered once: its idempotency key is [`UPDATE_KEY_PREFIX`] and a new
//! update id), received by the workflow like one, and replied to through
//! the `updates` interface; the reply is a journal entry
//! (`update_replied`), committed by the run's engine, where the sender's
//! wait finds it. A sender that stops waiting (timeout) leaves the update
//! delivered; [`Continuum::await_update`] picks the wait up again.

use std::time::Duration;

use serde_json::Value;

use crate::input_limits::{check_payload, check_run_id, check_signal_name};
use crate::journal::{EventBody, JournalError, RunKey, RunState, UPDATE_KEY_PREFIX};
use crate::{CallOptions, Continuum, Error};

/// How often a waiting sender reads the run's journal for the reply.
const POLL: Duration = Duration::from_millis(100);
/// Journal entries read per page while looking for the reply.
const PAGE: i64 = 500;

/// An update sent: its id, to wait for its reply with
/// [`Continuum::await_update`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateSent {
    /// The update id (a UUID).
    pub update_id: String,
    /// The run it was delivered to (the latest of the chain of the run
    /// named, for one that continued as new).
    pub run_id: String,
}

impl Continuum {
    /// Sends the update `name` with `payload` to the run `run_id` and waits
    /// up to `timeout` for the workflow's reply. The update is durable like
    /// a signal: stored before this waits, delivered once, also when no
    /// host runs now (it is replied to once one does).
    ///
    /// Errors: as [`Continuum::signal`]; [`Error::UpdateRejected`] when the
    /// workflow replied with an error; [`Error::UpdateTimeout`] when no
    /// reply came in time (the update stays delivered);
    /// [`Error::UpdateNotReplied`] when the run ended without replying.
    ///
    /// ```no_run
    /// # async fn demo(c: &continuum_host::Continuum) -> Result<(), continuum_host::Error> {
    /// use continuum_host::CallOptions;
    /// use std::time::Duration;
    /// let total = c.update("counter-1", "add", serde_json::json!(5), Duration::from_secs(30), CallOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(&self, run_id: &str, name: &str, payload: Value, timeout: Duration, opts: CallOptions) -> Result<Value, Error> {
        let sent = self.send_update(run_id, name, payload, opts.clone()).await?;
        self.await_update(&sent.run_id, &sent.update_id, timeout, opts).await
    }

    /// Sends the update `name` with `payload` to the run `run_id` (the
    /// latest run of its chain) and returns at once with its id.
    pub async fn send_update(&self, run_id: &str, name: &str, payload: Value, opts: CallOptions) -> Result<UpdateSent, Error> {
        check_run_id(run_id)?;
        check_signal_name(name)?;
        check_payload("update payload", &payload)?;
        let inst = self.instance(opts.instance.as_deref())?;
        let update_id = uuid::Uuid::new_v4().to_string();
        let signal_key = format!("{UPDATE_KEY_PREFIX}{update_id}");
        let mut key = RunKey::new(inst.name(), inst.chain_end(run_id).await?.key.run_id);
        let sent = loop {
            match inst.journal().send_signal(&key, name, &payload, Some(&signal_key)).await {
                Err(JournalError::RunFinished { state: RunState::Continued, .. }) => {
                    key = RunKey::new(inst.name(), inst.chain_end(&key.run_id).await?.key.run_id);
                }
                sent => break sent.map_err(|e| Error::from_journal(e, &key))?,
            }
        };
        tracing::info!(instance = %key.instance, run_id = %key.run_id, workflow = %sent.workflow, update = name, update_id = %update_id,
            signal_id = sent.id, "update sent");
        inst.shared.wakeups.dispatcher.notify_one();
        Ok(UpdateSent { update_id, run_id: key.run_id })
    }

    /// Waits up to `timeout` for the reply to the update `update_id` sent
    /// to `run_id` (as [`Continuum::send_update`] returned them): the
    /// reply, [`Error::UpdateRejected`], [`Error::UpdateTimeout`], or
    /// [`Error::UpdateNotReplied`] once the run has ended without replying.
    /// A run that continued as new is followed to the next run of its
    /// chain (where an update it had not received went).
    pub async fn await_update(&self, run_id: &str, update_id: &str, timeout: Duration, opts: CallOptions) -> Result<Value, Error> {
        check_run_id(run_id)?;
        let inst = self.instance(opts.instance.as_deref())?;
        let deadline = tokio::time::Instant::now() + timeout;
        let mut key = RunKey::new(inst.name(), run_id);
        let mut after = 0;
        loop {
            // The run's state first: a run read as ended has its whole
            // journal committed, so no reply found after is still to come.
            let run = inst.journal().get_run(&key).await?.ok_or_else(|| Error::unknown_run(&key))?;
            loop {
                let page = inst.journal().events_page(&key, after, PAGE).await?;
                let full = page.len() as i64 >= PAGE;
                for event in page {
                    after = event.seq;
                    if let EventBody::UpdateReplied { update_id: id, reply, error } = event.body {
                        if id != update_id {
                            continue;
                        }
                        return match error {
                            Some(message) => Err(Error::UpdateRejected {
                                instance: key.instance.clone(),
                                run_id: key.run_id.clone(),
                                update_id: id,
                                message,
                            }),
                            None => Ok(reply.unwrap_or(Value::Null)),
                        };
                    }
                }
                if !full {
                    break;
                }
            }
            match (run.state, run.continued_to) {
                (RunState::Continued, Some(next)) => {
                    key = RunKey::new(inst.name(), next);
                    after = 0;
                    continue;
                }
                (state, _) if state.is_final() => {
                    return Err(Error::UpdateNotReplied { instance: key.instance, run_id: key.run_id, update_id: update_id.to_string(), state });
                }
                _ => {}
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::UpdateTimeout { instance: key.instance, run_id: key.run_id, update_id: update_id.to_string(), waited: timeout });
            }
            tokio::time::sleep(POLL.min(deadline.saturating_duration_since(tokio::time::Instant::now()))).await;
        }
    }
}

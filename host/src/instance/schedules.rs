//! An instance's schedules as verbs: create, list, pause, resume, delete,
//! and the declaration of the manifest's schedules at start-up. Every
//! check runs before anything is written; each write is one statement.

use chrono::Utc;

use crate::journal::{ScheduleRow, ORIGIN_MANIFEST};
use crate::schedule::{invalid_schedule_name, ScheduleInfo, ScheduleSpec, ScheduleTiming, Ticks};
use crate::{input_limits, Error};

use super::Instance;

impl Instance {
    /// Creates a schedule; returns it as stored (with its first tick).
    /// Refused, with nothing written: an invalid name, cron expression or
    /// time zone, a one-shot time in the past ([`Error::InvalidSchedule`]),
    /// a workflow the instance does not know ([`Error::UnknownWorkflow`]),
    /// an input past the limits, a name in use ([`Error::ScheduleExists`]).
    pub async fn create_schedule(&self, spec: &ScheduleSpec) -> Result<ScheduleInfo, Error> {
        let row = self.checked_row(spec, false)?;
        if !self.journal().create_schedule(&row).await? {
            return Err(Error::ScheduleExists { instance: self.name().to_string(), name: spec.name.clone() });
        }
        tracing::info!(instance = %self.name(), schedule = %spec.name, workflow = %spec.workflow, "schedule created");
        self.shared.wakeups.scheduler.notify_one();
        self.info(&row)
    }

    /// The instance's schedules, by name, with their next tick.
    pub async fn schedules(&self) -> Result<Vec<ScheduleInfo>, Error> {
        let rows = self.journal().list_schedules(self.name()).await?;
        rows.iter().map(|r| self.info(r)).collect()
    }

    /// The schedule `name`.
    pub async fn schedule(&self, name: &str) -> Result<ScheduleInfo, Error> {
        let row = self.stored(name).await?;
        self.info(&row)
    }

    /// Pauses a schedule: no tick fires until it is resumed.
    pub async fn pause_schedule(&self, name: &str) -> Result<ScheduleInfo, Error> {
        self.stored(name).await?;
        if !self.journal().set_schedule_paused(self.name(), name, true, None).await? {
            return Err(self.unknown(name));
        }
        tracing::info!(instance = %self.name(), schedule = name, "schedule paused");
        self.schedule(name).await
    }

    /// Resumes a schedule. A cron schedule goes on from its next tick after
    /// now (the ticks of the pause are not fired); a one-shot schedule that
    /// has not fired keeps its time (its catch-up window applies).
    pub async fn resume_schedule(&self, name: &str) -> Result<ScheduleInfo, Error> {
        let row = self.stored(name).await?;
        let next = match (&row.cron, row.next_fire_ms) {
            (Some(_), _) => {
                let spec = row.spec().ok_or_else(|| self.unreadable(name))?;
                let ticks = Ticks::parse(&spec.timing).map_err(|reason| self.refused(name, reason))?;
                ticks.next_after(Utc::now()).map(|t| t.timestamp_millis())
            }
            (None, next) => next,
        };
        if !self.journal().set_schedule_paused(self.name(), name, false, next).await? {
            return Err(self.unknown(name));
        }
        tracing::info!(instance = %self.name(), schedule = name, "schedule resumed");
        self.shared.wakeups.scheduler.notify_one();
        self.schedule(name).await
    }

    /// Deletes a schedule; the runs it started stay.
    pub async fn delete_schedule(&self, name: &str) -> Result<(), Error> {
        if invalid_schedule_name(name).is_some() || !self.journal().delete_schedule(self.name(), name).await? {
            return Err(self.unknown(name));
        }
        tracing::info!(instance = %self.name(), schedule = name, "schedule deleted");
        Ok(())
    }

    /// Makes the stored schedules declared in the manifest what `specs`
    /// says: new ones are created, changed ones redefined (from their next
    /// tick after now), those no longer declared deleted; schedules created
    /// through the API are left alone, and a manifest schedule of the same
    /// name as one of them is refused. A changed one-shot schedule whose
    /// time has passed is left as it is, with a warning (it fired on a
    /// previous start, or the host started too late).
    pub(crate) async fn declare_schedules(&self, specs: &[ScheduleSpec]) -> Result<(), Error> {
        let stored = self.journal().list_schedules(self.name()).await?;
        for spec in specs {
            let existing = stored.iter().find(|r| r.name == spec.name);
            if let Some(r) = existing {
                if r.origin != ORIGIN_MANIFEST {
                    return Err(self.refused(&spec.name, "a schedule of that name was created through the API; delete it first".into()));
                }
                if r.spec().as_ref() == Some(spec) {
                    continue;
                }
            }
            if let ScheduleTiming::At(at) = &spec.timing {
                if *at <= Utc::now() {
                    tracing::warn!(instance = %self.name(), schedule = %spec.name, at = %at, "one-shot schedule of the manifest is past; left as it is");
                    continue;
                }
            }
            let row = self.checked_row(spec, true)?;
            if existing.is_some() {
                self.journal().redefine_schedule(&row).await?;
                tracing::info!(instance = %self.name(), schedule = %spec.name, "schedule of the manifest redefined");
            } else if self.journal().create_schedule(&row).await? {
                tracing::info!(instance = %self.name(), schedule = %spec.name, "schedule of the manifest created");
            }
        }
        for r in stored.iter().filter(|r| r.origin == ORIGIN_MANIFEST && !specs.iter().any(|s| s.name == r.name)) {
            self.journal().delete_schedule(self.name(), &r.name).await?;
            tracing::info!(instance = %self.name(), schedule = %r.name, "schedule no longer in the manifest deleted");
        }
        self.shared.wakeups.scheduler.notify_one();
        Ok(())
    }

    /// The row `spec` makes, once every check passed.
    fn checked_row(&self, spec: &ScheduleSpec, from_manifest: bool) -> Result<ScheduleRow, Error> {
        let row = spec.to_row(self.name(), Utc::now(), from_manifest)?;
        input_limits::check_payload("input", &spec.input)?;
        if self.modules().current_hash(&spec.workflow).is_none() {
            return Err(Error::UnknownWorkflow {
                instance: self.name().to_string(),
                workflow: spec.workflow.clone(),
                known: self.modules().names(),
            });
        }
        Ok(row)
    }

    async fn stored(&self, name: &str) -> Result<ScheduleRow, Error> {
        if invalid_schedule_name(name).is_some() {
            return Err(self.unknown(name));
        }
        self.journal().get_schedule(self.name(), name).await?.ok_or_else(|| self.unknown(name))
    }

    fn info(&self, row: &ScheduleRow) -> Result<ScheduleInfo, Error> {
        row.info().ok_or_else(|| self.unreadable(&row.name))
    }

    fn unknown(&self, name: &str) -> Error {
        Error::UnknownSchedule { instance: self.name().to_string(), name: name.to_string() }
    }

    fn refused(&self, name: &str, reason: String) -> Error {
        Error::InvalidSchedule { instance: self.name().to_string(), name: input_limits::clip(name), reason }
    }

    fn unreadable(&self, name: &str) -> Error {
        self.refused(name, "its stored timing is unreadable".into())
    }
}

//! The replay cursor: a run's recorded history, read back in step with the
//! guest as it re-executes.
//!
//! A journal holds two sorts of events. *Commands* are what the guest asked
//! for, in program order (schedule an activity, start a timer, ask for a
//! signal, read the clock, draw a random number or a UUID). *Completions*
//! are what happened to the operations the commands started (an activity's
//! result, a timer firing, a signal received), in the order the host
//! learned of them. Replay hands the guest every recorded command result in
//! order and checks each new command against the recorded one: a module
//! that asks for a different step than the journal holds has drifted.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::journal::{ChildFailure, ChildFailureKind, Event, EventBody, Failure, FailureKind};

/// The outcome of an operation, as recorded in a completion event.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The operation produced a payload (a fired timer's is `null`).
    Ok(serde_json::Value),
    /// The operation failed.
    Err(Failure),
}

/// A command the guest issues, described for matching against history.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `call-activity(name, ..)`.
    Activity {
        /// Activity name.
        name: String,
    },
    /// `start-timer(duration)`.
    Timer {
        /// Duration requested.
        duration_ms: u64,
    },
    /// `receive-signal(name)`.
    Signal {
        /// Signal name.
        name: String,
    },
    /// `now()`.
    Clock,
    /// `random()`.
    Random,
    /// `uuid()`.
    Uuid,
    /// `start-child(workflow, ..)`.
    Child {
        /// The child's workflow.
        workflow: String,
    },
    /// `set-attribute(key, value)`.
    Attribute {
        /// The attribute's key.
        key: String,
        /// Its value.
        value: String,
    },
    /// `reply-update(update-id, ..)`.
    UpdateReply {
        /// The update replied to.
        update_id: String,
    },
}

impl Command {
    /// The call, as messages name it.
    pub(crate) fn describe(&self) -> String {
        match self {
            Command::Activity { name } => format!("call-activity `{name}`"),
            Command::Timer { duration_ms } => format!("start-timer {duration_ms} ms"),
            Command::Signal { name } => format!("receive-signal `{name}`"),
            Command::Clock => "now()".into(),
            Command::Random => "random()".into(),
            Command::Uuid => "uuid()".into(),
            Command::Child { workflow } => format!("start-child `{workflow}`"),
            Command::Attribute { key, value } => format!("set-attribute `{key}` = `{value}`"),
            Command::UpdateReply { update_id } => format!("reply-update `{update_id}`"),
        }
    }
}

/// The guest asked for a different step than the journal holds.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("replay drift at journal entry {seq}: the journal holds {expected}, the module asked for {found}")]
pub struct Drift {
    /// The `seq` of the journal entry that did not match (the next free
    /// `seq` when the journal had nothing more).
    pub seq: i64,
    /// What the journal holds there.
    pub expected: String,
    /// What the module asked for.
    pub found: String,
}

/// What replaying a command yields.
#[derive(Debug, Clone, PartialEq)]
// `Recorded` is what nearly every replayed command returns: boxing it
// would allocate once per command for no gain.
#[allow(clippy::large_enum_variant)]
pub enum Replayed {
    /// The journal has this command: here is its recorded body.
    Recorded(EventBody),
    /// The journal has no more commands: the run is live from here on.
    Live,
}

/// A run's history, consumed as the guest re-executes.
#[derive(Debug, Default)]
pub struct History {
    /// Command events, in order.
    commands: Vec<(i64, EventBody)>,
    /// Index of the next command to replay.
    cursor: usize,
    /// Completions by operation number: (`seq`, outcome).
    completions: HashMap<u32, (i64, Outcome)>,
    /// Signal inbox rows already delivered to this run.
    consumed_signals: HashSet<i64>,
    /// Operations started so far (the next handle).
    next_op: u32,
    /// The last `seq` in the journal (recorded or appended since).
    last_seq: i64,
    /// The guest went past the point where the previous attempt stopped
    /// (see [`History::caught_up`]); shared with the guest's stdout and
    /// stderr, which are muted until then like `log`.
    caught_up: Arc<AtomicBool>,
    /// When each recorded activity call was scheduled, by operation.
    scheduled_at: HashMap<u32, chrono::DateTime<chrono::Utc>>,
    /// The deadline of the clean-up once a cancellation was delivered
    /// (recorded or appended), in ms since the epoch.
    cancel_deadline_ms: Option<i64>,
    /// The child runs started (recorded or appended), by operation.
    children: HashMap<u32, String>,
    /// How the children that did not complete failed, by operation.
    child_failures: HashMap<u32, ChildFailure>,
    /// The update id of each signal receipt that received an update, by
    /// operation.
    update_ids: HashMap<u32, String>,
    /// The updates replied to so far (replayed or appended), in step with
    /// the guest.
    replied_updates: HashSet<String>,
}

impl History {
    /// Builds the cursor from a run's stored journal.
    pub fn new(events: &[Event]) -> Self {
        let mut h = History { caught_up: Arc::new(AtomicBool::new(events.is_empty())), ..History::default() };
        for e in events {
            h.last_seq = h.last_seq.max(e.seq);
            if let EventBody::ActivityScheduled { op, .. } = &e.body {
                h.scheduled_at.insert(*op, e.recorded_at);
            }
            match &e.body {
                EventBody::ActivityScheduled { .. }
                | EventBody::TimerStarted { .. }
                | EventBody::SignalRequested { .. }
                | EventBody::ClockRead { .. }
                | EventBody::RandomDrawn { .. }
                | EventBody::UuidDrawn { .. }
                | EventBody::PatchMarker { .. }
                | EventBody::ChildStarted { .. }
                | EventBody::AttributeSet { .. }
                | EventBody::UpdateReplied { .. } => h.commands.push((e.seq, e.body.clone())),
                _ => {}
            }
            h.note_completion(e.seq, &e.body);
        }
        h
    }

    fn note_completion(&mut self, seq: i64, body: &EventBody) {
        let (op, outcome) = match body {
            EventBody::CancelDelivered { deadline_ms, .. } => {
                self.cancel_deadline_ms = Some(*deadline_ms);
                return;
            }
            EventBody::ChildStarted { op, run_id, .. } => {
                self.children.insert(*op, run_id.clone());
                return;
            }
            EventBody::ChildCompleted { op, output } => (*op, Outcome::Ok(output.clone())),
            EventBody::ChildFailed { op, failure } => {
                if !self.completions.contains_key(op) {
                    self.child_failures.insert(*op, failure.clone());
                }
                (*op, Outcome::Err(child_failure_as_failure(failure)))
            }
            EventBody::OperationCancelled { op } => {
                if self.children.contains_key(op) && !self.completions.contains_key(op) {
                    self.child_failures.insert(*op, ChildFailure::new(ChildFailureKind::Cancelled, "the run was cancelled"));
                }
                (*op, Outcome::Err(Failure::cancelled_by_request()))
            }
            EventBody::ActivityCompleted { op, output, .. } => (*op, Outcome::Ok(output.clone())),
            EventBody::ActivityFailed { op, failure } => (*op, Outcome::Err(failure.clone())),
            EventBody::TimerFired { op } => (*op, Outcome::Ok(serde_json::Value::Null)),
            EventBody::SignalReceived { op, payload, signal_id, update_id, .. } => {
                self.consumed_signals.insert(*signal_id);
                if let Some(id) = update_id {
                    self.update_ids.entry(*op).or_insert_with(|| id.clone());
                }
                (*op, Outcome::Ok(payload.clone()))
            }
            _ => return,
        };
        // The first completion counts: a result that came in after a
        // cancellation completed the operation is not the guest's.
        self.completions.entry(op).or_insert((seq, outcome));
    }

    /// The clean-up deadline (ms since the epoch) once a cancellation was
    /// delivered to the run; `None` before.
    pub fn cancel_deadline_ms(&self) -> Option<i64> {
        self.cancel_deadline_ms
    }

    /// The child run operation `op` started, if it started one.
    pub fn child_run_id(&self, op: u32) -> Option<&str> {
        self.children.get(&op).map(String::as_str)
    }

    /// How the child of operation `op` failed, once it has.
    pub fn child_failure(&self, op: u32) -> Option<&ChildFailure> {
        self.child_failures.get(&op)
    }

    /// True once the run has started a child.
    pub fn has_children(&self) -> bool {
        !self.children.is_empty()
    }

    /// The operations started so far that have no completion, in order.
    pub fn open_ops(&self) -> Vec<u32> {
        (0..self.next_op).filter(|op| !self.completions.contains_key(op)).collect()
    }

    /// When the recorded activity call `op` was scheduled, if the loaded
    /// history holds its event.
    pub fn scheduled_at(&self, op: u32) -> Option<chrono::DateTime<chrono::Utc>> {
        self.scheduled_at.get(&op).copied()
    }

    /// True while recorded commands remain to be replayed.
    pub fn replaying(&self) -> bool {
        self.cursor < self.commands.len()
    }

    /// True while recorded commands other than clock, random and UUID
    /// reads remain to be replayed. Reads a language runtime makes on its
    /// own (StarlingMonkey reads the clock as the workflow returns) may be
    /// recorded after the point a query is answered at.
    pub fn replaying_more_than_reads(&self) -> bool {
        self.commands.get(self.cursor..).is_some_and(|rest| {
            rest.iter().any(|(_, body)| {
                !matches!(body, EventBody::ClockRead { .. } | EventBody::RandomDrawn { .. } | EventBody::UuidDrawn { .. })
            })
        })
    }

    /// True once the guest is past everything an earlier attempt of the
    /// run executed: from the start on a first attempt; otherwise from the
    /// first command the journal does not hold, or the first wait none of
    /// whose operations has a recorded completion (marked by
    /// [`History::go_live`]). That wait is the one the previous attempt
    /// suspended at: every wait it got past has its completion recorded,
    /// and the one it suspended at had none (results taken in at the
    /// suspension are only those of operations it was not waiting on). So
    /// what the guest does after recorded commands but before that wait
    /// (a `log`) was done before, and is not done again.
    pub fn caught_up(&self) -> bool {
        self.caught_up.load(Ordering::Relaxed)
    }

    /// The [`History::caught_up`] flag itself, for what reads it outside
    /// host calls (the guest's stdout and stderr).
    pub fn caught_up_flag(&self) -> Arc<AtomicBool> {
        self.caught_up.clone()
    }

    /// Marks the guest as past what earlier attempts executed: it waits on
    /// operations none of which has a recorded completion.
    pub fn go_live(&mut self) {
        self.caught_up.store(true, Ordering::Relaxed);
    }

    /// True when the journal holds no events at all (first execution).
    pub fn is_empty(&self) -> bool {
        self.last_seq == 0
    }

    /// Matches the guest's next command against the journal. Operation
    /// commands are numbered here: the returned op is the guest's handle.
    pub fn next_command(&mut self, cmd: &Command) -> Result<(u32, Replayed), Drift> {
        let op = match cmd {
            Command::Activity { .. } | Command::Timer { .. } | Command::Signal { .. } | Command::Child { .. } => {
                let op = self.next_op;
                self.next_op += 1;
                op
            }
            _ => 0,
        };
        let Some((seq, body)) = self.commands.get(self.cursor) else {
            self.caught_up.store(true, Ordering::Relaxed);
            return Ok((op, Replayed::Live));
        };
        let matches = match (cmd, body) {
            (Command::Activity { name }, EventBody::ActivityScheduled { op: o, name: n, .. }) => {
                n == name && *o == op
            }
            (Command::Timer { duration_ms }, EventBody::TimerStarted { op: o, duration_ms: d, .. }) => {
                d == duration_ms && *o == op
            }
            (Command::Signal { name }, EventBody::SignalRequested { op: o, name: n }) => {
                n == name && *o == op
            }
            (Command::Child { workflow }, EventBody::ChildStarted { op: o, workflow: w, .. }) => {
                w == workflow && *o == op
            }
            (Command::Attribute { key, value }, EventBody::AttributeSet { key: k, value: v }) => k == key && v == value,
            (Command::UpdateReply { update_id }, EventBody::UpdateReplied { update_id: u, .. }) => u == update_id,
            (Command::Clock, EventBody::ClockRead { .. })
            | (Command::Random, EventBody::RandomDrawn { .. })
            | (Command::Uuid, EventBody::UuidDrawn { .. }) => true,
            _ => false,
        };
        if !matches {
            return Err(Drift {
                seq: *seq,
                expected: describe_recorded(body),
                found: cmd.describe(),
            });
        }
        self.cursor += 1;
        Ok((op, Replayed::Recorded(body.clone())))
    }

    /// `patched(name)`: true (consuming the marker) when the journal holds
    /// this patch's marker next; false, consuming nothing, when it holds
    /// another step (history recorded before the patch existed); `None`
    /// when the journal is exhausted (live: the caller records a marker).
    pub fn patched(&mut self, name: &str) -> Option<bool> {
        match self.commands.get(self.cursor) {
            None => {
                self.caught_up.store(true, Ordering::Relaxed);
                None
            }
            Some((_, EventBody::PatchMarker { name: n })) if n == name => {
                self.cursor += 1;
                Some(true)
            }
            Some(_) => Some(false),
        }
    }

    /// Checks, when the guest has returned, that it replayed every recorded
    /// command.
    pub fn finish(&self) -> Result<(), Drift> {
        match self.commands.get(self.cursor) {
            None => Ok(()),
            Some((seq, body)) => Err(Drift {
                seq: *seq,
                expected: describe_recorded(body),
                found: "the workflow returning".into(),
            }),
        }
    }

    /// A drift at the cursor: the guest did `found` where the journal holds
    /// the next recorded command.
    pub fn drift_here(&self, found: String) -> Drift {
        match self.commands.get(self.cursor) {
            Some((seq, body)) => Drift { seq: *seq, expected: describe_recorded(body), found },
            None => Drift { seq: self.last_seq + 1, expected: "nothing more".into(), found },
        }
    }

    /// True if the handle names an operation the guest has started.
    pub fn knows_op(&self, op: u32) -> bool {
        op < self.next_op
    }

    /// The recorded (or newly appended) completion of an operation.
    pub fn completion(&self, op: u32) -> Option<&(i64, Outcome)> {
        self.completions.get(&op)
    }

    /// True if the signal inbox row was already delivered to this run.
    pub fn signal_consumed(&self, id: i64) -> bool {
        self.consumed_signals.contains(&id)
    }

    /// Reserves the next `seq` for an event appended live.
    pub fn append(&mut self, body: &EventBody) -> i64 {
        self.last_seq += 1;
        let seq = self.last_seq;
        self.note_completion(seq, body);
        seq
    }

    /// The last `seq` of the journal.
    pub fn last_seq(&self) -> i64 {
        self.last_seq
    }

    /// The update id of the signal operation `op` received, if it received
    /// an update.
    pub fn update_id_of(&self, op: u32) -> Option<&str> {
        self.update_ids.get(&op).map(String::as_str)
    }

    /// True if the run received the update `id` (recorded or appended).
    pub fn update_received(&self, id: &str) -> bool {
        self.update_ids.values().any(|u| u == id)
    }

    /// True once the guest has replied to the update `id` (replayed or
    /// appended).
    pub fn update_replied(&self, id: &str) -> bool {
        self.replied_updates.contains(id)
    }

    /// Notes the guest's reply to the update `id`.
    pub fn mark_replied(&mut self, id: &str) {
        self.replied_updates.insert(id.to_string());
    }
}

fn describe_recorded(body: &EventBody) -> String {
    match body {
        EventBody::ActivityScheduled { name, .. } => format!("call-activity `{name}`"),
        EventBody::TimerStarted { duration_ms, .. } => format!("start-timer {duration_ms} ms"),
        EventBody::SignalRequested { name, .. } => format!("receive-signal `{name}`"),
        EventBody::ClockRead { .. } => "now()".into(),
        EventBody::RandomDrawn { .. } => "random()".into(),
        EventBody::UuidDrawn { .. } => "uuid()".into(),
        EventBody::PatchMarker { name } => format!("patched(`{name}`)"),
        EventBody::ChildStarted { workflow, .. } => format!("start-child `{workflow}`"),
        EventBody::AttributeSet { key, value } => format!("set-attribute `{key}` = `{value}`"),
        EventBody::UpdateReplied { update_id, .. } => format!("reply-update `{update_id}`"),
        other => other.kind().to_string(),
    }
}

/// A child's failure as the completion of its operation carries it (the
/// WIT `failure` record, whose kinds are an activity's): a cancelled or
/// terminated child is `cancelled`, any other failure `activity_failed`;
/// the code is the child's error code, or the kind's name when it has
/// none. The typed failure is the SDK's through `child-failure-of`.
pub fn child_failure_as_failure(f: &ChildFailure) -> Failure {
    let (kind, name) = match f.kind {
        ChildFailureKind::Cancelled => (FailureKind::Cancelled, "cancelled"),
        ChildFailureKind::Terminated => (FailureKind::Cancelled, "terminated"),
        ChildFailureKind::UnknownWorkflow => (FailureKind::ActivityFailed, "unknown_workflow"),
        ChildFailureKind::Refused => (FailureKind::ActivityFailed, "child_refused"),
        _ => (FailureKind::ActivityFailed, "child_failed"),
    };
    Failure { kind, message: f.message.clone(), attempts: 0, code: Some(f.code.clone().unwrap_or_else(|| name.to_string())) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use serde_json::json;

    fn ev(seq: i64, body: EventBody) -> Event {
        Event { seq, body, recorded_at: Utc::now() }
    }

    #[test]
    fn replays_commands_and_completions_then_goes_live() {
        let events = vec![
            ev(1, EventBody::RunStarted { module_hash: "h".into() }),
            ev(2, EventBody::ActivityScheduled { op: 0, name: "a".into(), input: json!(1), options: Default::default(), eager: false }),
            ev(3, EventBody::ActivityCompleted { op: 0, output: json!(2), attempts: 1 }),
            ev(4, EventBody::ClockRead { value_ms: 42 }),
        ];
        let mut h = History::new(&events);
        assert!(h.replaying());
        let (op, r) = h.next_command(&Command::Activity { name: "a".into() }).unwrap();
        assert_eq!(op, 0);
        assert!(matches!(r, Replayed::Recorded(EventBody::ActivityScheduled { .. })));
        assert_eq!(h.completion(0).unwrap().1, Outcome::Ok(json!(2)));
        let (_, r) = h.next_command(&Command::Clock).unwrap();
        assert_eq!(r, Replayed::Recorded(EventBody::ClockRead { value_ms: 42 }));
        assert!(!h.replaying());
        let (op, r) = h.next_command(&Command::Timer { duration_ms: 5 }).unwrap();
        assert_eq!((op, r), (1, Replayed::Live));
        assert_eq!(h.append(&EventBody::TimerFired { op: 1 }), 5);
        assert!(h.finish().is_ok());
    }

    #[test]
    fn a_different_step_is_drift_naming_both_sides() {
        let events = vec![
            ev(1, EventBody::ActivityScheduled { op: 0, name: "a".into(), input: json!(1), options: Default::default(), eager: false }),
            ev(2, EventBody::SignalRequested { op: 1, name: "go".into() }),
        ];
        let mut h = History::new(&events);
        h.next_command(&Command::Activity { name: "a".into() }).unwrap();
        let d = h.next_command(&Command::Activity { name: "b".into() }).unwrap_err();
        assert_eq!(d.seq, 2);
        assert!(d.to_string().contains("receive-signal `go`"), "{d}");
        assert!(d.to_string().contains("call-activity `b`"), "{d}");
    }

    #[test]
    fn patch_markers_keep_old_histories_on_the_old_path() {
        // Recorded by code without the patch: the marker is absent.
        let old = vec![ev(1, EventBody::SignalRequested { op: 0, name: "go".into() })];
        let mut h = History::new(&old);
        assert_eq!(h.patched("skip"), Some(false));
        assert!(h.next_command(&Command::Signal { name: "go".into() }).is_ok());
        // Recorded by code with the patch.
        let new = vec![ev(1, EventBody::PatchMarker { name: "skip".into() })];
        let mut h = History::new(&new);
        assert_eq!(h.patched("skip"), Some(true));
        assert_eq!(h.patched("skip"), None);
    }

    #[test]
    fn caught_up_at_the_first_step_the_journal_does_not_hold() {
        assert!(History::new(&[]).caught_up(), "a first attempt executes everything for the first time");
        let events = vec![
            ev(1, EventBody::ActivityScheduled { op: 0, name: "a".into(), input: json!(1), options: Default::default(), eager: false }),
            ev(2, EventBody::ActivityCompleted { op: 0, output: json!(2), attempts: 1 }),
            ev(3, EventBody::SignalRequested { op: 1, name: "go".into() }),
        ];
        // Suspended waiting for `go`: replaying up to that wait repeats
        // what the previous attempt did.
        let mut h = History::new(&events);
        h.next_command(&Command::Activity { name: "a".into() }).unwrap();
        assert!(!h.caught_up());
        h.next_command(&Command::Signal { name: "go".into() }).unwrap();
        assert!(!h.replaying());
        assert!(!h.caught_up(), "past the last command, not yet at the wait it suspended at");
        h.go_live();
        assert!(h.caught_up());
        // A previous attempt that died before waiting: the next command is new.
        let mut h = History::new(&events[..2]);
        h.next_command(&Command::Activity { name: "a".into() }).unwrap();
        assert!(!h.caught_up());
        assert_eq!(h.next_command(&Command::Clock).unwrap().1, Replayed::Live);
        assert!(h.caught_up());
    }

    #[test]
    fn attributes_replay_by_key_and_value() {
        let set = |k: &str, v: &str| EventBody::AttributeSet { key: k.into(), value: v.into() };
        let events = vec![ev(1, set("customer", "c-42")), ev(2, set("tier", "gold"))];
        let mut h = History::new(&events);
        let (_, r) = h.next_command(&Command::Attribute { key: "customer".into(), value: "c-42".into() }).unwrap();
        assert_eq!(r, Replayed::Recorded(set("customer", "c-42")));
        let d = h.next_command(&Command::Attribute { key: "tier".into(), value: "silver".into() }).unwrap_err();
        assert!(d.to_string().contains("`tier` = `gold`") && d.to_string().contains("`tier` = `silver`"), "{d}");
        assert!(History::new(&events).finish().is_err(), "a recorded attribute not set again is drift");
    }

    #[test]
    fn returning_early_is_drift() {
        let events = vec![ev(1, EventBody::UuidDrawn { value: "x".into() })];
        let h = History::new(&events);
        assert!(h.finish().is_err());
    }
}

//! The workflows an instance serves: name -> module file, content hash and,
//! on hosts that execute runs, the compiled module. Runs are executed on
//! the module whose hash they recorded.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use crate::modules::WorkflowModule;

/// One workflow of the instance.
#[derive(Debug, Clone)]
pub struct WorkflowEntry {
    /// Workflow name.
    pub name: String,
    /// Content hash of its current module.
    pub hash: String,
    /// Module file.
    pub path: PathBuf,
    /// The compiled module (on hosts that execute runs).
    pub module: Option<Arc<WorkflowModule>>,
}

/// The instance's workflows by name and by module hash.
#[derive(Debug, Default)]
pub struct WorkflowSet {
    by_name: BTreeMap<String, WorkflowEntry>,
    by_hash: HashMap<String, Arc<WorkflowModule>>,
}

impl WorkflowSet {
    /// Adds a workflow.
    pub fn insert(&mut self, entry: WorkflowEntry) {
        if let Some(m) = &entry.module {
            self.by_hash.insert(entry.hash.clone(), m.clone());
        }
        self.by_name.insert(entry.name.clone(), entry);
    }

    /// The workflow of that name.
    pub fn get(&self, name: &str) -> Option<&WorkflowEntry> {
        self.by_name.get(name)
    }

    /// The compiled module with that content hash.
    pub fn by_hash(&self, hash: &str) -> Option<Arc<WorkflowModule>> {
        self.by_hash.get(hash).cloned()
    }

    /// The workflow names, comma-separated (for messages).
    pub fn names(&self) -> String {
        let names: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    }
}

//! The lease fence on Postgres, written once: the rows of `runs` whose
//! lease (owner and token) is still the one a writer names, locked in key
//! order (so concurrent batches cannot deadlock). Commits, renewals and
//! releases all select their runs through it.

use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::Postgres;

use crate::journal::{Lease, RunKey};

/// `SELECT {select}` from the rows of `runs` (`r`) whose lease is the one
/// a row of `source` (`u`, with `instance`, `run_id`, `owner`, `token`)
/// names, locked in key order.
pub(super) fn held(select: &str, source: &str) -> String {
    format!(
        "SELECT {select} FROM runs r JOIN {source} \
           ON r.instance = u.instance AND r.run_id = u.run_id \
          AND r.lease_owner = u.owner AND r.lease_token = u.token \
         ORDER BY r.instance, r.run_id FOR UPDATE OF r"
    )
}

/// The leases bound as `$1` to `$5` ([`LeaseArrays::bind`]), as a
/// [`held`] source: `u(instance, run_id, owner, token, idx)`, `idx` being
/// the lease's position.
pub(super) const LEASES: &str =
    "UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) AS u(instance, run_id, owner, token, idx)";

/// Leases as the column arrays [`LEASES`] reads.
pub(super) struct LeaseArrays<'a> {
    instance: Vec<&'a str>,
    run_id: Vec<&'a str>,
    owner: Vec<&'a str>,
    token: Vec<i64>,
    idx: Vec<i64>,
}

impl<'a> LeaseArrays<'a> {
    /// The arrays of `leases`, in order.
    pub(super) fn new(leases: impl Iterator<Item = (&'a RunKey, &'a Lease)>) -> Self {
        let mut a = Self { instance: Vec::new(), run_id: Vec::new(), owner: Vec::new(), token: Vec::new(), idx: Vec::new() };
        for (i, (key, lease)) in leases.enumerate() {
            a.instance.push(&key.instance);
            a.run_id.push(&key.run_id);
            a.owner.push(&lease.owner);
            a.token.push(lease.token);
            a.idx.push(i as i64);
        }
        a
    }

    /// Binds the arrays as the query's `$1` to `$5`.
    pub(super) fn bind<'q>(self, q: Query<'q, Postgres, PgArguments>) -> Query<'q, Postgres, PgArguments>
    where
        'a: 'q,
    {
        q.bind(self.instance).bind(self.run_id).bind(self.owner).bind(self.token).bind(self.idx)
    }
}

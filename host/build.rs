//! Rebuilds the crate when a migration is added or changed: `sqlx::migrate!`
//! embeds `migrations/` at compile time, but stable Rust cannot tell cargo
//! that the macro read those files.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}

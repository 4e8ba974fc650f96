//! Rebuilds the crate when a file of the web UI (`ui/`, embedded with
//! `include_dir!`) changes: the macro does not tell cargo what it read.

fn main() {
    println!("cargo:rerun-if-changed=ui");
}

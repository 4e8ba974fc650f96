//! How much linear memory a component starts with: what decides which of
//! the two engines (`wasm.rs`) runs it. A Rust or C guest starts with a
//! megabyte or two; CPython and StarlingMonkey start from a snapshot of
//! 9-12 MiB that every activation copies from.

use wasmparser::{Parser, Payload};

/// Components whose largest memory starts at this size or more run on the
/// engine that keeps their memory resident between instances.
pub const LARGE_IMAGE: u64 = 4 << 20;

/// The largest initial size, in bytes, of any memory the component's core
/// modules define (0 when it defines none, or cannot be read: compiling
/// it reports that).
pub fn largest_initial_memory(bytes: &[u8]) -> u64 {
    let mut largest = 0u64;
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(Payload::MemorySection(memories)) = payload else {
            if payload.is_err() {
                return largest;
            }
            continue;
        };
        for memory in memories.into_iter().flatten() {
            let page = 1u64 << memory.page_size_log2.unwrap_or(16);
            largest = largest.max(memory.initial.saturating_mul(page));
        }
    }
    largest
}

/// Whether a component starts with a memory of [`LARGE_IMAGE`] or more.
pub fn is_large(bytes: &[u8]) -> bool {
    largest_initial_memory(bytes) >= LARGE_IMAGE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples-wasm/components").join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (build the guests first)", path.display()))
    }

    #[test]
    fn rust_guests_are_small_and_python_and_js_ones_large() {
        let rust = largest_initial_memory(&component("bench_flow.wasm"));
        assert!(rust > 0 && rust < LARGE_IMAGE, "rust: {rust}");
        assert!(is_large(&component("python_bench_flow.wasm")));
        assert!(is_large(&component("js_bench_flow.wasm")));
        assert_eq!(largest_initial_memory(b"not wasm"), 0);
    }
}

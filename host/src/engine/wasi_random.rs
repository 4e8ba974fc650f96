//! `wasi:random` for workflow guests (`random`, `insecure`,
//! `insecure-seed`): every byte comes from one generator per attempt,
//! seeded by a journaled draw.
//!
//! The first WASI randomness a guest asks for draws a 64-bit seed like the
//! `random` host import does (a `random_drawn` event: live a fresh value,
//! on replay the recorded one) and seeds a ChaCha20 generator with it. Every
//! later request, of any of the three interfaces, is served from that
//! generator in program order. Two runs draw different seeds, so their
//! bytes differ; a replay re-executes the same requests in the same order
//! from the recorded seed, so it gets the same bytes (Python's
//! `random.random()` once reseeded from `os.urandom`, `uuid.uuid4()`,
//! JavaScript's `crypto.getRandomValues`).
//!
//! This randomness is recorded: it is not a secret from whoever reads the
//! journal, and must not be used as one (keys, tokens); an activity is the
//! place for those.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use wasmtime_wasi::p2::bindings::random::{insecure, insecure_seed, random};

use super::interrupt::Interrupt;
use super::run_ctx::RunCtx;

/// The most bytes one request may ask for (as wasmtime-wasi's default).
const MAX_REQUEST: u64 = 64 << 20;

impl RunCtx {
    /// The run's WASI generator, seeded on first use from a journaled draw.
    fn wasi_rng(&mut self) -> wasmtime::Result<&mut ChaCha20Rng> {
        if self.wasi_rng.is_none() {
            let seed = self.draw_random().map_err(Interrupt::trap)?;
            self.wasi_rng = Some(rng_from_seed(seed));
        }
        match self.wasi_rng.as_mut() {
            Some(rng) => Ok(rng),
            None => Err(wasmtime::format_err!("the WASI random generator is missing")),
        }
    }

    fn wasi_bytes(&mut self, len: u64) -> wasmtime::Result<Vec<u8>> {
        if len > MAX_REQUEST {
            wasmtime::bail!("requested {len} random bytes, more than the limit of {MAX_REQUEST}");
        }
        let mut bytes = vec![0u8; len as usize];
        self.wasi_rng()?.fill_bytes(&mut bytes);
        Ok(bytes)
    }
}

/// The generator for a seed: ChaCha20 keyed with the seed's 8 little-endian
/// bytes followed by zeros (a fixed, portable derivation: the same seed
/// gives the same bytes on every host and version).
fn rng_from_seed(seed: u64) -> ChaCha20Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    ChaCha20Rng::from_seed(key)
}

impl random::Host for RunCtx {
    fn get_random_bytes(&mut self, len: u64) -> wasmtime::Result<Vec<u8>> {
        self.wasi_bytes(len)
    }

    fn get_random_u64(&mut self) -> wasmtime::Result<u64> {
        Ok(self.wasi_rng()?.next_u64())
    }
}

impl insecure::Host for RunCtx {
    fn get_insecure_random_bytes(&mut self, len: u64) -> wasmtime::Result<Vec<u8>> {
        self.wasi_bytes(len)
    }

    fn get_insecure_random_u64(&mut self) -> wasmtime::Result<u64> {
        Ok(self.wasi_rng()?.next_u64())
    }
}

impl insecure_seed::Host for RunCtx {
    fn insecure_seed(&mut self) -> wasmtime::Result<(u64, u64)> {
        let rng = self.wasi_rng()?;
        Ok((rng.next_u64(), rng.next_u64()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_bytes_every_time_and_seeds_differ() {
        let draw = |seed| {
            let mut rng = rng_from_seed(seed);
            let mut bytes = [0u8; 32];
            rng.fill_bytes(&mut bytes);
            bytes
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        // Pinned (ChaCha20, key = 1 as 8 little-endian bytes then zeros,
        // nonce and counter 0: the first two keystream words): a different
        // derivation would change what replays of recorded runs see.
        assert_eq!(rng_from_seed(1).next_u64(), 0x9311_ece1_7c0a_d3c5);
    }
}

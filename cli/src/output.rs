//! Writing to stdout and stderr without panicking: `println!` panics when
//! the reader has gone (`continuum show RUN | head -1`). Output to a closed
//! pipe is dropped quietly and the command ends as it would have; error
//! messages are made one line of bounded length.

use std::fmt::Arguments;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// The longest error line printed, in characters.
const MAX_ERROR_CHARS: usize = 1000;

static STDOUT_GONE: AtomicBool = AtomicBool::new(false);

/// Writes to stdout; once a write fails (the reader closed the pipe),
/// nothing more is written.
pub fn stdout(args: Arguments<'_>) {
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if out.write_fmt(args).and_then(|()| out.flush()).is_err() {
        STDOUT_GONE.store(true, Ordering::Relaxed);
    }
}

/// Writes one line to stderr, ignoring a closed stderr.
pub fn stderr_line(args: Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{args}");
}

/// An error message as one line: line breaks and runs of whitespace become
/// one space; past 1,000 characters it is cut with an ellipsis.
pub fn one_line(message: &str) -> String {
    let joined = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= MAX_ERROR_CHARS {
        return joined;
    }
    let mut out: String = joined.chars().take(MAX_ERROR_CHARS - 1).collect();
    out.push('…');
    out
}

/// `println!` that never panics (see [`stdout`]).
macro_rules! outln {
    () => {
        $crate::output::stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that never panics (see [`stdout`]).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::stdout(format_args!($($arg)*))
    };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::stderr_line(format_args!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn messages_become_one_bounded_line() {
        assert_eq!(one_line("a\n  b\n\nc"), "a b c");
        let long = one_line(&"x ".repeat(5000));
        assert_eq!(long.chars().count(), 1000);
        assert!(long.ends_with('…'));
    }
}

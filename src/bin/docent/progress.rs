//! Progress lines on stderr for the long commands (`index`, `model`).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Prints progress lines on stderr: in place on a terminal, at most every 2 s otherwise.
pub struct Meter {
    tty: bool,
    last: Instant,
    every: Duration,
}

impl Meter {
    pub fn new() -> Self {
        let tty = std::io::stderr().is_terminal();
        Meter { tty, last: Instant::now(), every: Duration::from_millis(if tty { 100 } else { 2000 }) }
    }
    pub fn tick(&mut self, line: impl FnOnce() -> String, force: bool) {
        if !force && self.last.elapsed() < self.every {
            return;
        }
        self.last = Instant::now();
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K{}", line());
            if force {
                let _ = writeln!(err);
            }
        } else {
            let _ = writeln!(err, "{}", line());
        }
    }
}

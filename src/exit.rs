//! Exit codes: the one contract between recpipe and the scripts and
//! schedulers that run it. Every command ends with exactly one of these,
//! except when a signal ends it: Ctrl-C, SIGTERM or closing the console
//! during `decrypt` exits 130 (128 + SIGINT, as shells report it) after
//! removing its partial output. README's command table lists each
//! command's statuses; tests/it/seal_cli.rs checks the rows of keygen, seal
//! and decrypt against runs.

/// How a recpipe command ended. The numeric values are a user contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything asked for is done (or there was nothing to do).
    Success = 0,
    /// recpipe itself failed: an I/O error, a bug, a refused operation.
    Error = 1,
    /// The command line or a file it names was not usable as given.
    Usage = 2,
    /// Something waits: a recording still being written, or a login that
    /// needs a person at a terminal.
    Waiting = 3,
    /// Something is broken and needs a person; it was left untouched.
    Broken = 4,
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// How serious the outcome is, the one order in which outcomes are
    /// combined: success < waiting < error (the next run retries) < broken
    /// (needs a person) < usage (the command could not start). The numeric
    /// codes are a contract with scripts and say nothing of this order.
    fn severity(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Waiting => 1,
            ExitStatus::Error => 2,
            ExitStatus::Broken => 3,
            ExitStatus::Usage => 4,
        }
    }

    /// The more serious of two outcomes, by [`ExitStatus::severity`]; every
    /// command that reports on several things combines their statuses here.
    pub fn worst(self, other: ExitStatus) -> ExitStatus {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones() {
        assert_eq!(ExitStatus::Success.code(), 0);
        assert_eq!(ExitStatus::Error.code(), 1);
        assert_eq!(ExitStatus::Usage.code(), 2);
        assert_eq!(ExitStatus::Waiting.code(), 3);
        assert_eq!(ExitStatus::Broken.code(), 4);
    }

    #[test]
    fn worst_follows_one_order_whichever_side_it_is_called_on() {
        use ExitStatus::*;
        let order = [Success, Waiting, Error, Broken, Usage];
        for (i, a) in order.iter().enumerate() {
            for (j, b) in order.iter().enumerate() {
                let expected = order[i.max(j)];
                assert_eq!(a.worst(*b), expected, "{a:?} with {b:?}");
            }
        }
    }
}

//! Asking a person for a login secret: a key passphrase, a password, a
//! one-time code. The library only defines the question; the terminal answer
//! lives in the CLI. [`NoTerminal`] is the answer of a scheduled job: it never
//! asks, so the login fails with "needs interactive login" instead of hanging.
//!
//! A [`Secret`] never shows its content through `Debug` or `Display`, so an
//! answer cannot slip into a log line or an error message, and it is wiped
//! from memory when dropped.

use std::fmt;
use zeroize::Zeroizing;

/// An answer typed by a person, zeroized on drop. Its content is only
/// reachable through [`Secret::expose`] and [`Secret::into_string`].
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Takes the answer over without copying it.
    pub fn new(text: String) -> Secret {
        Secret(Zeroizing::new(text))
    }

    /// The answer itself, to hand to the server and nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The answer's own buffer, moved out (not copied), for an API that
    /// takes ownership of a `String` (ssh2's keyboard-interactive answers);
    /// that API then owns the only copy.
    pub fn into_string(mut self) -> String {
        std::mem::take(&mut *self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<hidden>)")
    }
}

/// Why no answer came.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// Nobody can be asked (a scheduled job, no terminal).
    #[error("there is no terminal to ask on")]
    NoTerminal,
    /// The person declined (e.g. end of input).
    #[error("the question was not answered")]
    Declined,
    #[error("cannot read from the terminal: {0}")]
    Io(#[from] std::io::Error),
}

/// Asks a person for login answers.
pub trait Prompter {
    /// Shows `question` (a server's prompt such as `Password:` or
    /// `Verification code:`, or a passphrase question) and returns the answer.
    /// `echo == false` means the answer must not be shown as it is typed.
    fn ask(&self, question: &str, echo: bool) -> Result<Secret, PromptError>;

    /// Called when a login to `destination` (in words, such as
    /// `p11-alice@tsd-fx01.tsd.usit.no`) needs answers, before the
    /// connection that asks them is opened: a server allows a login only a
    /// short time (OpenSSH two minutes), and a watch may find a recording
    /// while nobody is at the desk. Returns `Ok(true)` when it waited for
    /// the person, so a connection opened before it may have been dropped
    /// and is opened anew; `Err` ends the login as an unanswered question
    /// would. The default: whoever answers is there already.
    fn fetch_person(&self, destination: &str) -> Result<bool, PromptError> {
        let _ = destination;
        Ok(false)
    }
}

/// The prompter of a run with nobody at a terminal: every question fails
/// with [`PromptError::NoTerminal`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTerminal;

impl Prompter for NoTerminal {
    fn ask(&self, _question: &str, _echo: bool) -> Result<Secret, PromptError> {
        Err(PromptError::NoTerminal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_debug_print() {
        let s = Secret::new("hunter2".into());
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2");
        assert_eq!(s.into_string(), "hunter2");
    }

    #[test]
    fn no_terminal_never_answers() {
        assert!(matches!(
            NoTerminal.ask("Password:", false),
            Err(PromptError::NoTerminal)
        ));
    }
}

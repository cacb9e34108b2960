//! Asking a person for a login secret: a key passphrase, a password, a
//! one-time code. The library only defines the question; the terminal answer
//! lives in the CLI. [`NoTerminal`] is the answer of a scheduled job: it never
//! asks, so the login fails with "needs interactive login" instead of hanging.
//!
//! A [`Secret`] never shows its content through `Debug` or `Display`, so an
//! answer cannot slip into a log line or an error message.

use std::fmt;

/// An answer typed by a person. Its content is only reachable through
/// [`Secret::expose`].
pub struct Secret(String);

impl Secret {
    pub fn new(text: String) -> Secret {
        Secret(text)
    }

    /// The answer itself, to hand to the server and nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
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
    }

    #[test]
    fn no_terminal_never_answers() {
        assert!(matches!(
            NoTerminal.ask("Password:", false),
            Err(PromptError::NoTerminal)
        ));
    }
}

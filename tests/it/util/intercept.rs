//! Fault injection around a real destination: [`Intercept`] passes every
//! call through to the backend it wraps, except those its [`Hooks`] take
//! over (an upload that dies half-way, a rename that leaves other bytes, a
//! server restarted during a read-back, a count of read-backs).
//!
//! Invariant: a hook sees the real backend and decides what reaches it;
//! everything a hook does not override reaches it unchanged. A resumed
//! upload's prefix check goes through the hooked read-back (the trait's
//! default `partial_is_prefix`), so a test sees every read-back asked for.

use recpipe::destination::{DestError, Destination, Note, Progress};
use std::fs::File;

/// What a test takes over; each default passes the call on.
pub trait Hooks {
    fn upload(
        &mut self,
        inner: &mut dyn Destination,
        name: &str,
        src: &mut File,
        offset: u64,
        progress: Progress<'_>,
    ) -> Result<u64, DestError> {
        inner.upload(name, src, offset, progress)
    }

    fn read_back(
        &mut self,
        inner: &mut dyn Destination,
        name: &str,
        progress: Progress<'_>,
    ) -> Result<([u8; 32], u64), DestError> {
        inner.read_back(name, progress)
    }

    fn rename_into_place(
        &mut self,
        inner: &mut dyn Destination,
        name: &str,
    ) -> Result<(), DestError> {
        inner.rename_into_place(name)
    }
}

/// A backend with some of its calls taken over by `hooks`.
pub struct Intercept<D, H> {
    pub inner: D,
    pub hooks: H,
}

impl<D: Destination, H: Hooks> Destination for Intercept<D, H> {
    fn location(&self) -> String {
        self.inner.location()
    }
    fn stat(&mut self, name: &str) -> Result<Option<u64>, DestError> {
        self.inner.stat(name)
    }
    fn upload(
        &mut self,
        name: &str,
        src: &mut File,
        offset: u64,
        progress: Progress<'_>,
    ) -> Result<u64, DestError> {
        self.hooks
            .upload(&mut self.inner, name, src, offset, progress)
    }
    fn read_back(
        &mut self,
        name: &str,
        progress: Progress<'_>,
    ) -> Result<([u8; 32], u64), DestError> {
        self.hooks.read_back(&mut self.inner, name, progress)
    }
    fn rename_into_place(&mut self, name: &str) -> Result<(), DestError> {
        self.hooks.rename_into_place(&mut self.inner, name)
    }
    fn remove_partial(&mut self, name: &str) -> Result<(), DestError> {
        self.inner.remove_partial(name)
    }
    fn take_notes(&mut self) -> Vec<Note> {
        self.inner.take_notes()
    }
    fn writes_synced(&self) -> bool {
        self.inner.writes_synced()
    }
}

//! recpipe's integration tests: one test crate (as ripgrep has it), a
//! module per area, and the shared helpers in [`util`]: the recording
//! builder in Zoom's layouts, media made by ffmpeg, the sshd harness and
//! the world of a whole pipeline run.
//!
//! Each test builds a fresh temp tree of its own. Tests that need an input
//! from outside the repository (`../shared/corpus`) fail loudly under
//! `CI=true` when it is missing, rather than passing without it.

mod util;

mod architecture;
mod check;
mod clock;
mod clock_marks;
mod corpus;
mod destination_conformance;
mod destination_faults;
mod destination_hostile;
mod destination_rclone;
mod destination_sftp;
mod destination_sftp_host_keys;
mod destination_trust_host;
mod destination_tsd;
mod destination_tsd_config;
mod destination_tsd_contract;
mod destination_tsd_hostile;
mod exit_status;
mod faults_files;
mod faults_key_files;
mod faults_pipeline;
mod init;
mod marks_failclosed;
mod media_fuzz;
#[cfg(unix)]
mod notify;
mod pipeline_cli;
mod pipeline_file;
mod pipeline_run;
mod pipeline_unsynced;
mod pipeline_watch;
mod recording_model;
mod redact_audio;
mod redact_corpus;
mod redact_m4a;
mod redact_marks;
mod redact_pending;
mod redact_plan;
mod redact_video;
mod seal_cli;
mod seal_config;
mod seal_format;
mod seal_header_fuzz;
mod seal_reference;
mod seal_vectors;
mod timeline;
mod windows;
mod windows_sftp;
mod windows_tsd;
mod zoom_folders;

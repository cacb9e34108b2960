//! A private D-Bus session bus (a real `dbus-daemon --session`) with a
//! stand-in notification server on it that records every
//! `org.freedesktop.Notifications.Notify` call, for the notification tests.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use zbus::OwnedVariant;

/// One `Notify` call as the server received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub app_name: String,
    pub summary: String,
    pub body: String,
}

struct Server {
    calls: Arc<Mutex<Vec<Call>>>,
    /// Never answers a `Notify` (a hung notification server).
    hung: bool,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, OwnedVariant>,
        _expire_timeout: i32,
    ) -> u32 {
        if self.hung {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
        let mut calls = self.calls.lock().unwrap();
        calls.push(Call {
            app_name,
            summary,
            body,
        });
        calls.len() as u32
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "stand-in".into(),
            "recpipe tests".into(),
            "1".into(),
            "1.2".into(),
        )
    }

    fn close_notification(&self, _id: u32) {}
}

/// The bus and its notification server, stopped when dropped.
pub struct NotificationBus {
    daemon: Child,
    pub address: String,
    calls: Arc<Mutex<Vec<Call>>>,
    _conn: zbus::Connection,
}

impl NotificationBus {
    pub fn start() -> NotificationBus {
        NotificationBus::start_with(false)
    }

    /// A bus whose notification server takes every call and never answers.
    pub fn start_hung() -> NotificationBus {
        NotificationBus::start_with(true)
    }

    fn start_with(hung: bool) -> NotificationBus {
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian package dbus-daemon) is needed for these tests");
        let mut address = String::new();
        BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim().to_string();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        let calls = Arc::new(Mutex::new(Vec::new()));
        let server = Server {
            calls: Arc::clone(&calls),
            hung,
        };
        let conn = zbus::block_on(async {
            zbus::connection::Builder::address(address.as_str())
                .name("org.freedesktop.Notifications")
                .serve_at("/org/freedesktop/Notifications", server)
                .build()
                .await
        })
        .unwrap();
        NotificationBus {
            daemon,
            address,
            calls,
            _conn: conn,
        }
    }

    /// Every `Notify` call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

impl Drop for NotificationBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

//! The desktop's own notification service: freedesktop notifications over
//! the session bus on Linux (notify-rust, through zbus), toast
//! notifications on Windows (WinRT, under recpipe's application identity).
//!
//! Invariant: a missing service (no session bus, no notification server,
//! no WinRT) is [`NotifyError::NoService`], never a panic; one that does
//! not answer within [`ANSWER`] is one too (the call is left to its
//! thread), so a hung service never holds up a run.

use super::{Notice, Notifier, NotifyError};
use std::time::Duration;

/// How long the service has to take a notification.
pub const ANSWER: Duration = Duration::from_secs(10);

/// The platform's notification service.
pub struct Desktop;

impl Notifier for Desktop {
    fn show(&self, notice: &Notice) -> Result<(), NotifyError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let notice = notice.clone();
        std::thread::Builder::new()
            .name("recpipe-notify".into())
            .spawn(move || {
                let _ = tx.send(show(&notice));
            })
            .map_err(|e| NotifyError::NoService(e.to_string()))?;
        rx.recv_timeout(ANSWER).unwrap_or_else(|_| {
            Err(NotifyError::NoService(format!(
                "the notification service did not answer within {}s",
                ANSWER.as_secs()
            )))
        })
    }
}

#[cfg(not(windows))]
fn show(notice: &Notice) -> Result<(), NotifyError> {
    notify_rust::Notification::new()
        .appname("recpipe")
        .summary(&notice.title)
        .body(&notice.body())
        .show()
        .map(|_| ())
        .map_err(|e| NotifyError::NoService(e.to_string()))
}

#[cfg(windows)]
fn show(notice: &Notice) -> Result<(), NotifyError> {
    use windows::Data::Xml::Dom::XmlDocument;
    use windows::UI::Notifications::{ToastNotification, ToastNotificationManager};
    use windows::core::HSTRING;
    register_app_id();
    let no_service = |e: windows::core::Error| NotifyError::NoService(e.message());
    let doc = XmlDocument::new().map_err(no_service)?;
    doc.LoadXml(&HSTRING::from(super::toast::xml(notice)))
        .map_err(|e| NotifyError::Refused(e.message()))?;
    let toast = ToastNotification::CreateToastNotification(&doc).map_err(no_service)?;
    ToastNotificationManager::CreateToastNotifierWithId(&HSTRING::from(super::APP_ID))
        .and_then(|n| n.Show(&toast))
        .map_err(no_service)
}

/// Names recpipe's application identity for the notification centre
/// (`HKCU\Software\Classes\AppUserModelId\recpipe`, `DisplayName`), as
/// Windows asks of a desktop program that is not packaged. Best effort: a
/// failure leaves the toast to show under the bare identity.
#[cfg(windows)]
fn register_app_id() {
    use windows_sys::Win32::System::Registry::{
        HKEY, HKEY_CURRENT_USER, KEY_SET_VALUE, REG_OPTION_NON_VOLATILE, REG_SZ, RegCloseKey,
        RegCreateKeyExW, RegSetValueExW,
    };
    let wide = |s: &str| s.encode_utf16().chain([0]).collect::<Vec<u16>>();
    let key_name = wide(&format!(
        "Software\\Classes\\AppUserModelId\\{}",
        super::APP_ID
    ));
    let (value, data) = (wide("DisplayName"), wide("recpipe"));
    let mut key: HKEY = std::ptr::null_mut();
    // SAFETY: every string is NUL-terminated UTF-16 that outlives the
    // calls; `key` is closed once opened.
    unsafe {
        if RegCreateKeyExW(
            HKEY_CURRENT_USER,
            key_name.as_ptr(),
            0,
            std::ptr::null(),
            REG_OPTION_NON_VOLATILE,
            KEY_SET_VALUE,
            std::ptr::null(),
            &mut key,
            std::ptr::null_mut(),
        ) == 0
        {
            RegSetValueExW(
                key,
                value.as_ptr(),
                0,
                REG_SZ,
                data.as_ptr().cast(),
                (data.len() * 2) as u32,
            );
            RegCloseKey(key);
        }
    }
}

//! Whether the interim folder is synced to a cloud service (OneDrive, also
//! when Windows redirects Documents into it; Dropbox; Google Drive; iCloud
//! Drive): then every recording leaves the PC as Zoom writes it, before
//! recpipe can redact or seal anything.
//!
//! Detection is by the path's components (the folder names the sync
//! clients create, on Windows, macOS and Linux alike) and, on Windows, by
//! the roots the OneDrive client publishes in the environment
//! (`OneDrive`, `OneDriveCommercial`, `OneDriveConsumer`). Invariant: only
//! names are looked at; nothing is opened.

use std::ffi::OsString;
use std::path::Path;

/// The environment variables in which sync clients name their root.
const ROOT_VARIABLES: &[(&str, &str)] = &[
    ("OneDrive", "OneDrive"),
    ("OneDriveCommercial", "OneDrive"),
    ("OneDriveConsumer", "OneDrive"),
];

/// The sync service the folder lies in, if any, reading the process's
/// environment.
pub fn synced_by(dir: &Path) -> Option<&'static str> {
    synced_by_with(dir, &|name| std::env::var_os(name))
}

/// [`synced_by`] with the environment given (for tests).
pub fn synced_by_with(dir: &Path, env: &dyn Fn(&str) -> Option<OsString>) -> Option<&'static str> {
    for (var, service) in ROOT_VARIABLES {
        if let Some(root) = env(var).filter(|r| !r.is_empty())
            && dir.starts_with(Path::new(&root))
        {
            return Some(service);
        }
    }
    let text = dir.to_string_lossy().replace('\\', "/");
    for part in text.split('/') {
        let p = part.to_lowercase();
        let service =
            if p == "onedrive" || p.starts_with("onedrive - ") || p.starts_with("onedrive-") {
                "OneDrive"
            } else if p == "dropbox" || p.starts_with("dropbox (") || p.starts_with("dropbox-") {
                "Dropbox"
            } else if p == "google drive"
                || p == "googledrive"
                || p == "my drive"
                || p.starts_with("googledrive-")
            {
                "Google Drive"
            } else if p == "icloud drive" || p == "iclouddrive" || p == "com~apple~clouddocs" {
                "iCloud Drive"
            } else {
                continue;
            };
        return Some(service);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<OsString> {
        None
    }

    #[test]
    fn the_clients_folders_by_name() {
        let cases = [
            (r"C:\Users\kari\OneDrive\Documents\Zoom", Some("OneDrive")),
            (
                r"C:\Users\kari\OneDrive - Universitetet i Sørøst-Norge\Dokumenter\Zoom",
                Some("OneDrive"),
            ),
            (
                "/Users/kari/Library/CloudStorage/OneDrive-USN/Zoom",
                Some("OneDrive"),
            ),
            ("/home/kari/Dropbox/Zoom", Some("Dropbox")),
            (r"D:\Dropbox (USN)\Zoom", Some("Dropbox")),
            ("G:/My Drive/Zoom", Some("Google Drive")),
            (
                "/Users/kari/Library/CloudStorage/GoogleDrive-kari@usn.no/Zoom",
                Some("Google Drive"),
            ),
            (r"C:\Users\kari\iCloudDrive\Zoom", Some("iCloud Drive")),
            (
                "/Users/kari/Library/Mobile Documents/com~apple~CloudDocs/Zoom",
                Some("iCloud Drive"),
            ),
            (r"C:\Users\kari\Documents\Zoom", None),
            ("/home/kari/Documents/Zoom/OneDriveNotes", None),
        ];
        for (path, want) in cases {
            assert_eq!(synced_by_with(Path::new(path), &none), want, "{path}");
        }
    }

    #[test]
    fn onedrives_root_from_the_environment() {
        let env =
            |name: &str| (name == "OneDriveCommercial").then(|| OsString::from("/srv/Work Files"));
        assert_eq!(
            synced_by_with(Path::new("/srv/Work Files/Zoom"), &env),
            Some("OneDrive")
        );
        assert_eq!(synced_by_with(Path::new("/srv/Other/Zoom"), &env), None);
    }
}

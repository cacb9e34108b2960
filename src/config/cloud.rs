//! Whether the interim folder is synced to a cloud service (OneDrive, also
//! when Windows redirects Documents into it; Dropbox; Google Drive; iCloud
//! Drive; any client of Windows' Cloud Files API): then every recording
//! leaves the PC as Zoom writes it, before recpipe can redact or seal
//! anything.
//!
//! Detection, in order:
//! - the roots the clients name themselves: the OneDrive client's
//!   environment variables (`OneDrive`, `OneDriveCommercial`,
//!   `OneDriveConsumer`); Dropbox's `info.json` (`~/.dropbox/` on Linux
//!   and macOS, `%LOCALAPPDATA%\Dropbox\` or `%APPDATA%\Dropbox\` on
//!   Windows), whose `path` entries are the synced folders even when
//!   renamed or moved; on Windows, the sync roots every Cloud Files client
//!   registers (OneDrive, Dropbox, Google Drive, iCloud, Box, Nextcloud …)
//!   under `HKLM\…\Explorer\SyncRootManager\<client>!…\UserSyncRoots`;
//! - the names the clients give their folders, on every system.
//!
//! Invariant: nothing in the interim folder is opened; only the clients'
//! own settings are read, and a setting that cannot be read counts as no
//! sync root (the names still apply).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The environment variables in which sync clients name their root.
const ROOT_VARIABLES: &[(&str, &str)] = &[
    ("OneDrive", "OneDrive"),
    ("OneDriveCommercial", "OneDrive"),
    ("OneDriveConsumer", "OneDrive"),
];

/// The sync service the folder lies in, if any, reading the process's
/// environment and the sync clients' settings. The folder is looked at as
/// given and, when it exists, as the file system resolves it: an interim
/// folder that is a link (or lies under one) into a synced folder is
/// synced.
pub fn synced_by(dir: &Path) -> Option<&'static str> {
    let resolved = std::fs::canonicalize(dir).ok().map(|p| plain(&p));
    let roots = registered_roots();
    std::iter::once(dir.to_path_buf())
        .chain(resolved)
        .find_map(|d| {
            synced_by_with(&d, &|name| std::env::var_os(name)).or_else(|| {
                roots
                    .iter()
                    .find(|(root, _)| within(&d, root))
                    .map(|(_, service)| *service)
            })
        })
}

/// A resolved path as the sync clients write theirs: on Windows without the
/// `\\?\` prefix `canonicalize` adds (`\\?\C:\…` is `C:\…`,
/// `\\?\UNC\server\…` is `\\server\…`).
fn plain(path: &Path) -> PathBuf {
    let text = path.to_string_lossy();
    if let Some(unc) = text.strip_prefix(r"\\?\UNC\") {
        PathBuf::from(format!(r"\\{unc}"))
    } else if let Some(local) = text.strip_prefix(r"\\?\") {
        PathBuf::from(local)
    } else {
        path.to_path_buf()
    }
}

/// [`synced_by`] by the environment given and the folders' names only (for
/// tests).
pub fn synced_by_with(dir: &Path, env: &dyn Fn(&str) -> Option<OsString>) -> Option<&'static str> {
    for (var, service) in ROOT_VARIABLES {
        if let Some(root) = env(var).filter(|r| !r.is_empty())
            && within(dir, Path::new(&root))
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

/// Whether `dir` is `root` or lies under it; on Windows without regard to
/// case or to the kind of slash, as the file system sees it.
fn within(dir: &Path, root: &Path) -> bool {
    if cfg!(windows) {
        let norm = |p: &Path| {
            p.to_string_lossy()
                .replace('/', "\\")
                .trim_end_matches('\\')
                .to_lowercase()
        };
        let (d, r) = (norm(dir), norm(root));
        !r.is_empty() && (d == r || d.starts_with(&format!("{r}\\")))
    } else {
        dir.starts_with(root)
    }
}

/// The folders sync clients say they sync, and by which service.
fn registered_roots() -> Vec<(PathBuf, &'static str)> {
    let roots = dropbox_info_files()
        .into_iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|text| dropbox_roots(&text))
        .map(|root| (root, "Dropbox"));
    #[cfg(windows)]
    let roots = roots.chain(registry::sync_roots());
    roots.collect()
}

/// Where the Dropbox client keeps `info.json` for this user.
fn dropbox_info_files() -> Vec<PathBuf> {
    let Some(dirs) = directories::BaseDirs::new() else {
        return Vec::new();
    };
    if cfg!(windows) {
        vec![
            dirs.data_local_dir().join("Dropbox").join("info.json"),
            dirs.data_dir().join("Dropbox").join("info.json"),
        ]
    } else {
        vec![dirs.home_dir().join(".dropbox").join("info.json")]
    }
}

/// The synced folders in a Dropbox `info.json`: the `path` of each account
/// (`personal`, `business`, or a team's name). Text that is not such a
/// file gives none.
fn dropbox_roots(text: &str) -> Vec<PathBuf> {
    let Ok(serde_json::Value::Object(accounts)) = serde_json::from_str(text) else {
        return Vec::new();
    };
    accounts
        .values()
        .filter_map(|a| a.get("path")?.as_str())
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .collect()
}

/// The service a Cloud Files client's registry name stands for
/// (`OneDrive!S-1-5-…!Business1`, `Dropbox!…`, `GoogleDrive!…`).
#[cfg(any(windows, test))]
fn service_of_client(client: &str) -> &'static str {
    let c = client.split('!').next().unwrap_or_default().to_lowercase();
    if c.contains("onedrive") {
        "OneDrive"
    } else if c.contains("dropbox") {
        "Dropbox"
    } else if c.contains("google") {
        "Google Drive"
    } else if c.contains("icloud") {
        "iCloud Drive"
    } else {
        "a cloud sync client"
    }
}

/// The sync roots of Windows' Cloud Files API clients, as registered under
/// `SyncRootManager`: one key per client and account, whose `UserSyncRoots`
/// values (one per user) are the synced folders.
#[cfg(windows)]
mod registry {
    use std::os::windows::ffi::{OsStrExt, OsStringExt};
    use std::path::PathBuf;
    use windows_sys::Win32::Foundation::ERROR_SUCCESS;
    use windows_sys::Win32::System::Registry::{
        HKEY, HKEY_LOCAL_MACHINE, KEY_READ, REG_EXPAND_SZ, REG_SZ, RegCloseKey, RegEnumKeyExW,
        RegEnumValueW, RegOpenKeyExW,
    };

    const MANAGER: &str = r"SOFTWARE\Microsoft\Windows\CurrentVersion\Explorer\SyncRootManager";

    /// An open key, closed when dropped.
    struct Key(HKEY);

    impl Key {
        fn open(parent: HKEY, name: &str) -> Option<Key> {
            let wide: Vec<u16> = std::ffi::OsStr::new(name)
                .encode_wide()
                .chain(Some(0))
                .collect();
            let mut key: HKEY = std::ptr::null_mut();
            // SAFETY: `wide` is NUL-terminated; `key` receives the handle.
            let rc = unsafe { RegOpenKeyExW(parent, wide.as_ptr(), 0, KEY_READ, &mut key) };
            (rc == ERROR_SUCCESS).then_some(Key(key))
        }

        /// The names of the subkeys.
        fn subkeys(&self) -> Vec<String> {
            let mut names = Vec::new();
            for i in 0.. {
                let mut buf = [0u16; 512];
                let mut len = buf.len() as u32;
                // SAFETY: `buf` holds `len` UTF-16 units; the rest may be null.
                let rc = unsafe {
                    RegEnumKeyExW(
                        self.0,
                        i,
                        buf.as_mut_ptr(),
                        &mut len,
                        std::ptr::null(),
                        std::ptr::null_mut(),
                        std::ptr::null_mut(),
                        std::ptr::null_mut(),
                    )
                };
                if rc != ERROR_SUCCESS {
                    break;
                }
                names.push(String::from_utf16_lossy(&buf[..len as usize]));
            }
            names
        }

        /// The string values' data.
        fn strings(&self) -> Vec<PathBuf> {
            let mut values = Vec::new();
            for i in 0.. {
                let mut name = [0u16; 256];
                let mut name_len = name.len() as u32;
                let mut data = vec![0u8; 2048];
                let mut data_len = data.len() as u32;
                let mut kind = 0u32;
                // SAFETY: each buffer holds the length passed with it.
                let rc = unsafe {
                    RegEnumValueW(
                        self.0,
                        i,
                        name.as_mut_ptr(),
                        &mut name_len,
                        std::ptr::null(),
                        &mut kind,
                        data.as_mut_ptr(),
                        &mut data_len,
                    )
                };
                if rc != ERROR_SUCCESS {
                    break;
                }
                if kind != REG_SZ && kind != REG_EXPAND_SZ {
                    continue;
                }
                let units: Vec<u16> = data[..data_len as usize]
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .take_while(|&u| u != 0)
                    .collect();
                if !units.is_empty() {
                    values.push(PathBuf::from(std::ffi::OsString::from_wide(&units)));
                }
            }
            values
        }
    }

    impl Drop for Key {
        fn drop(&mut self) {
            // SAFETY: the handle came from RegOpenKeyExW and is closed once.
            unsafe { RegCloseKey(self.0) };
        }
    }

    pub(super) fn sync_roots() -> Vec<(PathBuf, &'static str)> {
        let Some(manager) = Key::open(HKEY_LOCAL_MACHINE, MANAGER) else {
            return Vec::new();
        };
        let mut roots = Vec::new();
        for client in manager.subkeys() {
            let service = super::service_of_client(&client);
            if let Some(users) = Key::open(manager.0, &format!(r"{client}\UserSyncRoots")) {
                roots.extend(users.strings().into_iter().map(|p| (p, service)));
            }
        }
        roots
    }
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

    #[test]
    fn dropboxs_own_record_of_its_folders() {
        let info = r#"{"personal": {"path": "/home/kari/Synk", "host": 1, "is_team": false, "subscription_type": "Basic"},
                       "business": {"path": "C:\\Users\\kari\\USN Dropbox", "host": 2, "is_team": true}}"#;
        assert_eq!(
            dropbox_roots(info),
            [
                PathBuf::from(r"C:\Users\kari\USN Dropbox"),
                PathBuf::from("/home/kari/Synk")
            ]
        );
        for bad in [
            "",
            "[]",
            "{\"personal\": 3}",
            "{\"personal\": {\"path\": \"\"}}",
            "not json",
        ] {
            assert!(dropbox_roots(bad).is_empty(), "{bad}");
        }
    }

    #[test]
    fn the_cloud_files_clients_by_their_registry_names() {
        for (client, want) in [
            ("OneDrive!S-1-5-21-1-2-3-1001!Business1", "OneDrive"),
            ("Dropbox!S-1-5-21-1-2-3-1001!Personal", "Dropbox"),
            ("GoogleDrive!S-1-5-21-1-2-3-1001!Account", "Google Drive"),
            ("iCloudDrive!S-1-5-21-1-2-3-1001!", "iCloud Drive"),
            ("Nextcloud!S-1-5-21-1-2-3-1001!x", "a cloud sync client"),
        ] {
            assert_eq!(service_of_client(client), want, "{client}");
        }
    }

    #[test]
    fn resolved_windows_paths_lose_their_verbatim_prefix() {
        assert_eq!(
            plain(Path::new(r"\\?\C:\Users\kari\Dropbox")),
            PathBuf::from(r"C:\Users\kari\Dropbox")
        );
        assert_eq!(
            plain(Path::new(r"\\?\UNC\srv\home\kari")),
            PathBuf::from(r"\\srv\home\kari")
        );
        assert_eq!(plain(Path::new("/home/kari")), PathBuf::from("/home/kari"));
    }

    #[test]
    fn a_root_covers_its_own_folders_only() {
        assert!(within(Path::new("/srv/Synk/Zoom"), Path::new("/srv/Synk")));
        assert!(within(Path::new("/srv/Synk"), Path::new("/srv/Synk")));
        assert!(!within(
            Path::new("/srv/Synk2/Zoom"),
            Path::new("/srv/Synk")
        ));
    }
}

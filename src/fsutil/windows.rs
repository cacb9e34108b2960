//! The Windows side of [`super`]: file identity by volume serial number and
//! file index (from a path or an open handle), and access control lists
//! that keep a file or a folder to its owner.
//!
//! Invariants: a handle opened here only queries attributes and shares
//! reading, writing and deletion, so it never gets in Zoom's way; every
//! handle and every buffer the system allocates is released on every path.

use std::ffi::c_void;
use std::fs::{Metadata, OpenOptions};
use std::io;
use std::os::windows::ffi::OsStrExt;
use std::os::windows::fs::{MetadataExt, OpenOptionsExt};
use std::os::windows::io::AsRawHandle;
use std::path::Path;
use std::ptr::{null, null_mut};
use windows_sys::Win32::Foundation::{CloseHandle, ERROR_SUCCESS, HANDLE, LocalFree};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, GetNamedSecurityInfoW, SE_FILE_OBJECT, SetNamedSecurityInfoW,
};
use windows_sys::Win32::Security::{
    ACCESS_ALLOWED_ACE, ACE_HEADER, ACL, ACL_REVISION, AddAccessAllowedAceEx,
    CONTAINER_INHERIT_ACE, DACL_SECURITY_INFORMATION, GetAce, GetLengthSid, GetTokenInformation,
    InitializeAcl, OBJECT_INHERIT_ACE, PROTECTED_DACL_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR,
    TOKEN_QUERY, TOKEN_USER, TokenUser,
};
use windows_sys::Win32::Storage::FileSystem::{
    BY_HANDLE_FILE_INFORMATION, FILE_ALL_ACCESS, FILE_FLAG_BACKUP_SEMANTICS,
    FILE_FLAG_OPEN_REPARSE_POINT, FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE,
    GetFileInformationByHandle,
};
use windows_sys::Win32::System::SystemServices::ACCESS_ALLOWED_ACE_TYPE;
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

/// Volume serial number and 64-bit file index: what tells one file from
/// another that took its name. (Creation time cannot: NTFS gives a file
/// created under a name just deleted that file's creation time, "file
/// tunnelling".) A file that cannot be queried gets the creation time and
/// `u64::MAX`, which no queried file has, so it never matches one.
pub(super) fn identity(path: &Path, meta: &Metadata) -> (u64, u64) {
    query_index(path).unwrap_or((meta.creation_time(), u64::MAX))
}

fn query_index(path: &Path) -> io::Result<(u64, u64)> {
    let file = OpenOptions::new()
        .access_mode(0)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
        .custom_flags(FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT)
        .open(path)?;
    handle_identity(&file).map(|(identity, _)| identity)
}

/// Volume serial number and file index of an open file, and its number of
/// names (hard links).
pub(super) fn handle_identity(file: &std::fs::File) -> io::Result<((u64, u64), u64)> {
    let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: the handle is open for the call; `info` is a valid out-pointer.
    let ok = unsafe { GetFileInformationByHandle(file.as_raw_handle() as HANDLE, &mut info) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    let index = (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow);
    Ok((
        (u64::from(info.dwVolumeSerialNumber), index),
        u64::from(info.nNumberOfLinks),
    ))
}

fn wide(path: &Path) -> Vec<u16> {
    path.as_os_str().encode_wide().chain([0]).collect()
}

/// The current user's SID, in a buffer that holds the `TOKEN_USER` it
/// points into.
struct UserSid {
    buf: Vec<u64>,
}

impl UserSid {
    fn current() -> io::Result<UserSid> {
        let mut token: HANDLE = null_mut();
        // SAFETY: GetCurrentProcess returns a pseudo-handle; `token` is a
        // valid out-pointer and is closed below.
        if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
            return Err(io::Error::last_os_error());
        }
        let result = (|| {
            let mut len = 0u32;
            // SAFETY: a size query with no buffer.
            unsafe { GetTokenInformation(token, TokenUser, null_mut(), 0, &mut len) };
            if len == 0 {
                return Err(io::Error::last_os_error());
            }
            let mut buf = vec![0u64; (len as usize).div_ceil(8)];
            // SAFETY: `buf` holds at least `len` bytes, 8-byte aligned.
            let ok = unsafe {
                GetTokenInformation(token, TokenUser, buf.as_mut_ptr().cast(), len, &mut len)
            };
            if ok == 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(UserSid { buf })
        })();
        // SAFETY: `token` was opened above and is closed once.
        unsafe { CloseHandle(token) };
        result
    }

    fn sid(&self) -> *mut c_void {
        // SAFETY: `buf` starts with the TOKEN_USER GetTokenInformation wrote.
        unsafe { (*(self.buf.as_ptr() as *const TOKEN_USER)).User.Sid }
    }
}

/// Replaces the file's (or folder's) access list with one entry: full
/// access for the current user; inherited entries are cut off. With
/// `inherit` (for a folder) the entry is passed on to every file and
/// folder created inside it.
pub(super) fn restrict_to_owner(path: &Path, inherit: bool) -> io::Result<()> {
    let user = UserSid::current()?;
    // SAFETY: the SID comes from the token and lives as long as `user`.
    let sid_len = unsafe { GetLengthSid(user.sid()) } as usize;
    let acl_len = std::mem::size_of::<ACL>() + std::mem::size_of::<ACCESS_ALLOWED_ACE>()
        - std::mem::size_of::<u32>()
        + sid_len;
    let mut acl = vec![0u64; acl_len.div_ceil(8)];
    let acl_ptr = acl.as_mut_ptr() as *mut ACL;
    // SAFETY: `acl` holds `acl_len` bytes, 8-byte aligned.
    if unsafe { InitializeAcl(acl_ptr, acl_len as u32, ACL_REVISION) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let flags = if inherit {
        OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE
    } else {
        0
    };
    // SAFETY: the ACL was sized for exactly this entry.
    if unsafe { AddAccessAllowedAceEx(acl_ptr, ACL_REVISION, flags, FILE_ALL_ACCESS, user.sid()) }
        == 0
    {
        return Err(io::Error::last_os_error());
    }
    let name = wide(path);
    // SAFETY: `name` is NUL-terminated; the ACL is valid for the call.
    let err = unsafe {
        SetNamedSecurityInfoW(
            name.as_ptr(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
            null_mut(),
            null_mut(),
            acl_ptr,
            null(),
        )
    };
    if err != ERROR_SUCCESS {
        return Err(io::Error::from_raw_os_error(err as i32));
    }
    Ok(())
}

/// SIDs that may hold a secret besides its owner, as OpenSSH for Windows
/// allows for private keys: SYSTEM and the Administrators group, who can
/// take any file anyway.
const ALWAYS_ALLOWED: [&str; 2] = ["S-1-5-18", "S-1-5-32-544"];

/// Whether every entry that allows access names the current user, SYSTEM
/// or Administrators. A file with no access list at all is open to
/// everyone.
pub(super) fn is_owner_only(path: &Path) -> io::Result<bool> {
    let user = UserSid::current()?;
    let user_text = sid_text(user.sid())?;
    let name = wide(path);
    let mut dacl: *mut ACL = null_mut();
    let mut sd: PSECURITY_DESCRIPTOR = null_mut();
    // SAFETY: `name` is NUL-terminated; the out-pointers are valid; `sd`
    // is freed below and `dacl` points into it.
    let err = unsafe {
        GetNamedSecurityInfoW(
            name.as_ptr(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION,
            null_mut(),
            null_mut(),
            &mut dacl,
            null_mut(),
            &mut sd,
        )
    };
    if err != ERROR_SUCCESS {
        return Err(io::Error::from_raw_os_error(err as i32));
    }
    let result = (|| {
        if dacl.is_null() {
            return Ok(false);
        }
        // SAFETY: `dacl` is a valid ACL inside `sd`.
        let count = unsafe { (*dacl).AceCount };
        for i in 0..u32::from(count) {
            let mut ace: *mut c_void = null_mut();
            // SAFETY: `i` is below the ACL's entry count.
            if unsafe { GetAce(dacl, i, &mut ace) } == 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: every ACE starts with an ACE_HEADER.
            let kind = unsafe { (*(ace as *const ACE_HEADER)).AceType };
            if u32::from(kind) != ACCESS_ALLOWED_ACE_TYPE {
                continue;
            }
            // SAFETY: an ACCESS_ALLOWED_ACE's SID starts at SidStart.
            let sid = unsafe { &raw mut (*(ace as *mut ACCESS_ALLOWED_ACE)).SidStart };
            let text = sid_text(sid.cast())?;
            if text != user_text && !ALWAYS_ALLOWED.contains(&text.as_str()) {
                return Ok(false);
            }
        }
        Ok(true)
    })();
    // SAFETY: `sd` was allocated by GetNamedSecurityInfoW.
    unsafe { LocalFree(sd) };
    result
}

/// A SID as text, `S-1-5-...`.
fn sid_text(sid: *mut c_void) -> io::Result<String> {
    let mut text: *mut u16 = null_mut();
    // SAFETY: `sid` is valid; `text` is freed below.
    if unsafe { ConvertSidToStringSidW(sid, &mut text) } == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the system wrote a NUL-terminated string at `text`.
    let owned = unsafe {
        let len = (0..).take_while(|&i| *text.add(i) != 0).count();
        String::from_utf16_lossy(std::slice::from_raw_parts(text, len))
    };
    // SAFETY: `text` was allocated by ConvertSidToStringSidW.
    unsafe { LocalFree(text.cast()) };
    Ok(owned)
}

/// Whether this is Wine rather than Windows: Wine's ntdll exports
/// `wine_get_version`.
#[cfg(test)]
pub(super) fn is_wine() -> bool {
    use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};
    let ntdll: Vec<u16> = "ntdll.dll\0".encode_utf16().collect();
    // SAFETY: NUL-terminated names; ntdll is loaded in every process.
    unsafe {
        let module = GetModuleHandleW(ntdll.as_ptr());
        !module.is_null() && GetProcAddress(module, c"wine_get_version".as_ptr().cast()).is_some()
    }
}

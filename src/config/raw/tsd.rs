//! `[destination] kind = "tsd"`: the keys of TSD's file API route, checked
//! once here. Secrets never stand in the pipeline file: the API key and a
//! link's secret are named by the files that hold them; the link id itself
//! is not secret (it is useless without the API key).
//!
//! Invariants: the URL is `https://`, or `http://` only to 127.0.0.1 (a
//! local test server); project, group and folder names use only what TSD's
//! importer accepts, so they can go into a URL path unescaped.

use super::*;

/// Keys that belong to kind = "tsd" only.
const TSD_KEYS: &str = "project, url, group, auth, api_key_file, link, secret_file and chunk_size";

/// Refuses the TSD keys in a destination of another kind.
pub(super) fn refuse_tsd_keys(
    loc: &Locator<'_>,
    raw: &RawDestination,
    kind: DestKind,
) -> Result<(), ConfigError> {
    let kind = match kind {
        DestKind::Sftp => "sftp",
        DestKind::Dir => "dir",
        DestKind::Tsd => return Ok(()),
    };
    let strings = [
        (&raw.project, "project"),
        (&raw.url, "url"),
        (&raw.group, "group"),
        (&raw.auth, "auth"),
        (&raw.api_key_file, "api_key_file"),
        (&raw.link, "link"),
        (&raw.secret_file, "secret_file"),
    ];
    for (value, key) in strings {
        if let Some(v) = value {
            return Err(loc.at(
                v,
                format!("{key} belongs to kind = \"tsd\", not \"{kind}\" ({TSD_KEYS} are TSD's)"),
            ));
        }
    }
    if let Some(c) = &raw.chunk_size {
        return Err(loc.at(
            c,
            format!("chunk_size belongs to kind = \"tsd\", not \"{kind}\""),
        ));
    }
    Ok(())
}

pub(super) fn destination(
    loc: &Locator<'_>,
    raw: RawDestination,
    base: &Path,
) -> Result<Destination, ConfigError> {
    for (value, key) in [
        (raw.host.as_ref(), "host"),
        (raw.user.as_ref(), "user"),
        (raw.known_hosts.as_ref(), "known_hosts"),
        (raw.identity_file.as_ref(), "identity_file"),
    ] {
        if let Some(v) = value {
            return Err(loc.at(v, format!("{key} belongs to kind = \"sftp\", not \"tsd\"")));
        }
    }
    if let Some(p) = &raw.port {
        return Err(loc.at(
            p,
            "port belongs to kind = \"sftp\"; for kind = \"tsd\" give it in url",
        ));
    }
    let needs = |key: &str, why: &str| {
        loc.at(
            &raw.kind,
            format!("kind = \"tsd\" needs destination.{key} ({why})"),
        )
    };
    let nonempty = |v: &Spanned<String>, key: &str| -> Result<String, ConfigError> {
        let t = v.get_ref().trim();
        if t.is_empty() {
            Err(loc.at(v, format!("{key} is empty")))
        } else {
            Ok(t.to_string())
        }
    };

    let project_raw = raw
        .project
        .as_ref()
        .ok_or_else(|| needs("project", "the TSD project number, such as \"p11\""))?;
    let project = nonempty(project_raw, "project")?;
    if !is_project(&project) {
        return Err(loc.at(
            project_raw,
            format!("project {project:?} is not a TSD project number such as \"p11\""),
        ));
    }

    let url = match &raw.url {
        Some(u) => check_url(&nonempty(u, "url")?).map_err(|m| loc.at(u, m))?,
        None => TSD_DEFAULT_URL.to_string(),
    };

    let group = match &raw.group {
        Some(g) => {
            let g_text = nonempty(g, "group")?;
            let prefix = format!("{project}-");
            if !g_text.starts_with(&prefix)
                || !g_text.ends_with("-group")
                || !g_text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                return Err(loc.at(
                    g,
                    format!(
                        "group {g_text:?} is not a group of {project} (such as \"{project}-member-group\")"
                    ),
                ));
            }
            g_text
        }
        None => format!("{project}-member-group"),
    };

    let path = match &raw.path {
        Some(p) => {
            let text = p.get_ref().trim().trim_matches('/').to_string();
            for part in text.split('/').filter(|s| !s.is_empty()) {
                if !is_tsd_name(part) {
                    return Err(loc.at(
                        p,
                        format!(
                            "folder {part:?} in path: TSD's importer accepts only letters A-Z and a-z, digits, '.', '_' and '-', not starting with '.' or '~'"
                        ),
                    ));
                }
            }
            text.split('/')
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("/")
        }
        None => String::new(),
    };

    let api_key_file = match &raw.api_key_file {
        Some(f) => resolve_path(&nonempty(f, "api_key_file")?, base),
        None => {
            return Err(needs(
                "api_key_file",
                "the file holding the API key TSD registered for this client; never the key itself",
            ));
        }
    };

    let auth_raw = raw.auth.as_ref().ok_or_else(|| {
        needs(
            "auth",
            "\"basic\" (an allow-listed address), \"import-link\" (a link from the project) or \"login\" (a TSD user at the terminal)",
        )
    })?;
    let auth = match auth_raw.get_ref().as_str() {
        "basic" | "login" => {
            for (value, key) in [(&raw.link, "link"), (&raw.secret_file, "secret_file")] {
                if let Some(v) = value {
                    return Err(loc.at(v, format!("{key} belongs to auth = \"import-link\"")));
                }
            }
            if auth_raw.get_ref() == "basic" {
                TsdAuth::Basic
            } else {
                TsdAuth::Login
            }
        }
        "import-link" => {
            let link_raw = raw.link.as_ref().ok_or_else(|| {
                loc.at(
                    auth_raw,
                    "auth = \"import-link\" needs destination.link: the link's id, or the whole link (https://…/i/ID or https://…/c/ID) the project owner made",
                )
            })?;
            let (link_id, needs_secret) =
                parse_link(&nonempty(link_raw, "link")?).map_err(|m| loc.at(link_raw, m))?;
            let secret_file = match &raw.secret_file {
                Some(f) => Some(resolve_path(&nonempty(f, "secret_file")?, base)),
                None if needs_secret => {
                    return Err(loc.at(
                        link_raw,
                        "this link (…/c/…) has a secret: name the file that holds it in destination.secret_file",
                    ));
                }
                None => None,
            };
            TsdAuth::ImportLink {
                link_id,
                secret_file,
            }
        }
        other => {
            return Err(loc.at(
                auth_raw,
                format!(
                    "auth {other:?} is not a TSD route: use \"basic\", \"import-link\" or \"login\""
                ),
            ));
        }
    };

    let chunk_size = match &raw.chunk_size {
        Some(c) if *c.get_ref() < 64 * 1024 => {
            return Err(loc.at(c, "chunk_size is in bytes and at least 65536"));
        }
        Some(c) if *c.get_ref() > 1 << 30 => {
            return Err(loc.at(c, "chunk_size is at most 1 GiB (1073741824)"));
        }
        Some(c) => *c.get_ref(),
        None => TSD_DEFAULT_CHUNK_SIZE,
    };

    let verify = match &raw.verify {
        None => VerifyMode::ChunkMd5,
        Some(v) if *v.get_ref() == VerifyMode::ChunkMd5 => VerifyMode::ChunkMd5,
        Some(v) => {
            return Err(loc.at(
                v,
                "kind = \"tsd\" verifies with verify = \"chunk-md5\" (an import token cannot read files back: every chunk's MD5 is compared with what the server recorded, then the size)",
            ));
        }
    };

    Ok(Destination::Tsd(Tsd {
        project,
        url,
        group,
        path,
        auth,
        api_key_file,
        chunk_size,
        verify,
    }))
}

fn is_project(p: &str) -> bool {
    p.len() >= 2 && p.starts_with('p') && p[1..].chars().all(|c| c.is_ascii_digit())
}

/// A name TSD's importer accepts: `[A-Za-z0-9._-]`, not starting with `.`
/// (dot-files are skipped) or `~`, and not `..`.
pub fn is_tsd_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['.', '~'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The API's base URL, without a trailing `/` or `/v1`.
fn check_url(url: &str) -> Result<String, String> {
    let trimmed = url.trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/v1").unwrap_or(trimmed);
    let (scheme, rest) = trimmed
        .split_once("://")
        .ok_or_else(|| format!("url {url:?} is not a URL (https://api.tsd.usit.no)"))?;
    let host_port = rest.split('/').next().unwrap_or_default();
    // `[v6]:port`, `host:port` or a host alone.
    let (host, port) = match host_port.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, after)) => (h, after.strip_prefix(':')),
            None => return Err(format!("url {url:?} names no host")),
        },
        None => match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        },
    };
    if host.is_empty() || host_port.contains('@') {
        return Err(format!("url {url:?} names no host"));
    }
    if let Some(p) = port
        && !(p.bytes().all(|b| b.is_ascii_digit()) && matches!(p.parse::<u16>(), Ok(1..)))
    {
        return Err(format!(
            "url {url:?}: the port {p:?} is not a port (a number from 1 to 65535)"
        ));
    }
    if rest.contains(['?', '#']) {
        return Err(format!(
            "url {url:?}: give only the API's address, no query"
        ));
    }
    match scheme {
        "https" => Ok(trimmed.to_string()),
        "http" if host == "127.0.0.1" => Ok(trimmed.to_string()),
        "http" => Err(format!(
            "url {url:?}: TSD is reached by https:// only (http:// is allowed to 127.0.0.1, a local test server)"
        )),
        _ => Err(format!("url {url:?}: use https://")),
    }
}

/// The link's id (a UUID), and whether it is a link with a secret (`/c/`).
pub fn parse_link(link: &str) -> Result<(String, bool), String> {
    let (id, needs_secret) = if let Some(rest) = link.strip_prefix("https://") {
        let mut parts = rest.trim_end_matches('/').rsplit('/');
        let id = parts.next().unwrap_or_default();
        match parts.next() {
            Some("c") => (id, true),
            Some("i") => (id, false),
            _ => {
                return Err(format!(
                    "link {link:?} is not an import link (https://HOST/i/ID or https://HOST/c/ID)"
                ));
            }
        }
    } else {
        (link, false)
    };
    let is_uuid = id.len() == 36
        && id.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    if is_uuid {
        Ok((id.to_ascii_lowercase(), needs_secret))
    } else {
        Err(format!(
            "link {link:?}: the id of an import link is a UUID such as 0a1b2c3d-0000-4000-8000-000000000000"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_https_except_to_127_0_0_1() {
        assert_eq!(
            check_url("https://api.tsd.usit.no/v1/").unwrap(),
            "https://api.tsd.usit.no"
        );
        assert_eq!(
            check_url("http://127.0.0.1:3003").unwrap(),
            "http://127.0.0.1:3003"
        );
        assert_eq!(
            check_url("https://api.tsd.usit.no:65535").unwrap(),
            "https://api.tsd.usit.no:65535"
        );
        assert_eq!(check_url("https://[::1]:443").unwrap(), "https://[::1]:443");
        for bad in [
            "http://api.tsd.usit.no",
            "http://localhost:3003",
            "ftp://x",
            "api.tsd.usit.no",
            "https://user@host",
            "https://api.tsd.usit.no:99999",
            "https://api.tsd.usit.no:0",
            "https://api.tsd.usit.no:",
            "https://api.tsd.usit.no:+443",
            "http://127.0.0.1:65536",
        ] {
            assert!(check_url(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn links_are_ids_or_import_link_urls() {
        let id = "0a1b2c3d-0000-4000-8000-00000000abcd";
        assert_eq!(parse_link(id).unwrap(), (id.to_string(), false));
        assert_eq!(
            parse_link(&format!("https://data.tsd.usit.no/c/{id}")).unwrap(),
            (id.to_string(), true)
        );
        assert_eq!(
            parse_link(&format!("https://data.tsd.usit.no/i/{id}")).unwrap(),
            (id.to_string(), false)
        );
        assert!(parse_link("not-a-uuid").is_err());
        assert!(parse_link(&format!("https://data.tsd.usit.no/x/{id}")).is_err());
    }

    #[test]
    fn tsd_names() {
        assert!(is_tsd_name("rec_2026-01-01.m4a.age"));
        for bad in [".hidden", "~x", "a b", "æ", "a/b", ""] {
            assert!(!is_tsd_name(bad), "{bad:?}");
        }
    }
}

//! The secret check: after a soak, every file it wrote (logs, summaries,
//! captured child stdout/stderr, journals) is searched for the API secret.
//!
//! Why: a secret that reaches a log file, a journal or a panic message ends
//! up in bug reports and CI artifacts. Redaction is promised everywhere
//! (`Secret`'s Debug/Display); this proves it for one whole run, including
//! the error paths faults drive the engine through.

use std::path::{Path, PathBuf};

/// One file that contains the secret (the secret itself is never printed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHit {
    /// The file.
    pub path: PathBuf,
    /// Byte offset of the first occurrence.
    pub offset: usize,
}

/// Files larger than this are searched in their first part only.
const MAX_SCAN: u64 = 512 * 1024 * 1024;

/// Searches every regular file under `dir` (recursively) for `secret`;
/// returns the files containing it and the number of files searched. A
/// secret shorter than 8 bytes is refused (it would match by chance), as
/// is an unreadable directory.
pub fn scan_dir(dir: &Path, secret: &[u8]) -> Result<(Vec<SecretHit>, usize), String> {
    if secret.len() < 8 {
        return Err("secret too short to search for".into());
    }
    let mut hits = Vec::new();
    let mut files = 0usize;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        for entry in entries.flatten() {
            let p = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                files += 1;
                if let Some(offset) = scan_file(&p, secret)? {
                    hits.push(SecretHit { path: p, offset });
                }
            }
        }
    }
    hits.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((hits, files))
}

/// Offset of the first occurrence of `secret` in the file, if any.
pub fn scan_file(path: &Path, secret: &[u8]) -> Result<Option<usize>, String> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut data = Vec::new();
    f.take(MAX_SCAN)
        .read_to_end(&mut data)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(find(&data, secret))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_planted_secret_and_passes_clean_files() {
        let dir = std::env::temp_dir().join(format!("soak-secret-{}", std::process::id()));
        let sub = dir.join("child");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(dir.join("clean.log"), b"api_secret = Secret(***)\n").unwrap();
        std::fs::write(sub.join("leak.log"), b"xx sig key=S3CR3T-KEY-123 yy").unwrap();
        let (hits, files) = scan_dir(&dir, b"S3CR3T-KEY-123").unwrap();
        assert_eq!(files, 2);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].path, sub.join("leak.log"));
        assert_eq!(hits[0].offset, 11);
        let (none, _) = scan_dir(&dir, b"NOT-THERE-AT-ALL").unwrap();
        assert!(none.is_empty());
        assert!(scan_dir(&dir, b"short").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

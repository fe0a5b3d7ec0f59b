//! Builds Tongsuo's `openssl` CLI from `tongsuo_src::source_dir()` once per cargo target
//! directory, under `<target>/tongsuo-<version>/`:
//!
//! - `src/`: a copy of the vendored tree, configured and built in place (the registry's
//!   copy stays read-only), giving `src/apps/openssl`;
//! - `build.log`: configure and make output, whose tail a failure reports;
//! - `stamp`: written last, naming the version and configure options, so a finished build
//!   is reused by later runs and an interrupted or differently configured one is redone;
//! - `lock`: held (an OS file lock) while checking and building, so concurrent tests and
//!   test binaries wait for one build instead of racing.
//!
//! Needs perl, make and a C compiler (the same as the `tongsuo-src` crate itself).

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

/// Configure options: TLCP ("NTLS"), Tongsuo's fast SM2 on 64-bit gcc, a static CLI, no tests.
#[cfg(target_pointer_width = "64")]
const CONFIGURE: &[&str] = &[
    "enable-ntls",
    "enable-ec_sm2p_64_gcc_128",
    "no-shared",
    "no-tests",
];
/// Configure options: TLCP ("NTLS"), a static CLI, no tests.
#[cfg(not(target_pointer_width = "64"))]
const CONFIGURE: &[&str] = &["enable-ntls", "no-shared", "no-tests"];

/// The make target that builds `apps/openssl` and the libraries it links, nothing else.
const MAKE_TARGET: &str = "build_programs";

/// Lines of the build log a failure shows.
const LOG_TAIL_LINES: usize = 40;

/// Why the Tongsuo CLI could not be built.
#[derive(Debug)]
pub enum BuildError {
    /// A file-system step failed (copying the source, the lock, the log, the stamp).
    Io {
        /// What was being done.
        step: String,
        /// The underlying error.
        source: io::Error,
    },
    /// `config` or `make` could not start or exited with failure.
    Failed {
        /// The command that failed.
        step: String,
        /// Where the whole log is.
        log: PathBuf,
        /// Its last lines.
        tail: String,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Io { step, source } => write!(f, "building Tongsuo: {step}: {source}"),
            BuildError::Failed { step, log, tail } => write!(
                f,
                "building Tongsuo: `{step}` failed (full log: {}); last lines:\n{tail}",
                log.display()
            ),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Io { source, .. } => Some(source),
            BuildError::Failed { .. } => None,
        }
    }
}

fn io_step(step: impl Into<String>) -> impl FnOnce(io::Error) -> BuildError {
    let step = step.into();
    move |source| BuildError::Io { step, source }
}

/// The path of Tongsuo's `openssl` CLI, built on first use (minutes when cold, instant once
/// cached). Panics with the build log's tail if it cannot be built: every Tongsuo test needs
/// it.
pub fn cli() -> &'static Path {
    static CLI: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = CLI.get_or_init(|| {
        cache_dir()
            .and_then(|dir| ensure_built(&dir))
            .map_err(|e| e.to_string())
    });
    match built {
        Ok(path) => path,
        Err(message) => panic!("{message}"),
    }
}

/// `<target>/tongsuo-<version>`: the cargo target directory is the nearest ancestor of this
/// test executable holding cargo's `CACHEDIR.TAG`.
fn cache_dir() -> Result<PathBuf, BuildError> {
    let exe = std::env::current_exe().map_err(io_step("locating the test executable"))?;
    let target = exe
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .ok_or_else(|| BuildError::Io {
            step: format!("finding the cargo target directory above {}", exe.display()),
            source: io::Error::new(io::ErrorKind::NotFound, "no CACHEDIR.TAG"),
        })?;
    let version = tongsuo_src::version();
    let tongsuo_version = version.split_once('+').map_or(version, |(_, v)| v);
    Ok(target.join(format!("tongsuo-{tongsuo_version}")))
}

/// What the stamp records: a build made with anything else is redone.
fn stamp_contents() -> String {
    format!(
        "tongsuo-src {}\nconfigure {}\nmake {MAKE_TARGET}\n",
        tongsuo_src::version(),
        CONFIGURE.join(" ")
    )
}

/// Returns `dir/src/apps/openssl`, building it first unless the stamp says it is done.
fn ensure_built(dir: &Path) -> Result<PathBuf, BuildError> {
    fs::create_dir_all(dir).map_err(io_step(format!("creating {}", dir.display())))?;
    let lock_path = dir.join("lock");
    let lock =
        File::create(&lock_path).map_err(io_step(format!("opening {}", lock_path.display())))?;
    lock.lock()
        .map_err(io_step(format!("locking {}", lock_path.display())))?;
    // The lock is released when `lock` is dropped, after the stamp is written.
    let src = dir.join("src");
    let cli = src.join("apps").join("openssl");
    let stamp = dir.join("stamp");
    let done = fs::read_to_string(&stamp).is_ok_and(|s| s == stamp_contents()) && cli.is_file();
    if !done {
        build(dir, &src)?;
        fs::write(&stamp, stamp_contents()).map_err(io_step("writing the stamp"))?;
    }
    drop(lock);
    Ok(cli)
}

/// Copies the vendored tree to `src` and runs configure and make there, logging to
/// `dir/build.log`.
fn build(dir: &Path, src: &Path) -> Result<(), BuildError> {
    let started = Instant::now();
    let _ = fs::remove_file(dir.join("stamp"));
    if src.exists() {
        fs::remove_dir_all(src).map_err(io_step(format!("removing {}", src.display())))?;
    }
    copy_tree(&tongsuo_src::source_dir(), src)?;
    let log_path = dir.join("build.log");
    let mut log = File::create(&log_path).map_err(io_step("creating the build log"))?;
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    let jobs = format!("-j{jobs}");
    run(
        Command::new("perl").arg("Configure").args(CONFIGURE),
        src,
        &mut log,
        &log_path,
    )?;
    run(
        Command::new("make").args([jobs.as_str(), MAKE_TARGET]),
        src,
        &mut log,
        &log_path,
    )?;
    let elapsed = format!(
        "meshtls-tests: built Tongsuo's openssl CLI in {:.0} s ({jobs})",
        started.elapsed().as_secs_f64()
    );
    writeln!(log, "{elapsed}").map_err(io_step("writing the build log"))?;
    eprintln!("{elapsed}");
    Ok(())
}

/// Runs `command` in `dir` with its output appended to `log`.
fn run(
    command: &mut Command,
    dir: &Path,
    log: &mut File,
    log_path: &Path,
) -> Result<(), BuildError> {
    let step = format!("{command:?}");
    writeln!(log, "=== {step}").map_err(io_step("writing the build log"))?;
    let out = log.try_clone().map_err(io_step("sharing the build log"))?;
    let err = log.try_clone().map_err(io_step("sharing the build log"))?;
    // Make's jobserver settings of an enclosing build would confuse this one.
    let status = command
        .current_dir(dir)
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .stderr(err)
        .status();
    match status {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(BuildError::Failed {
            step: format!("{step} ({status})"),
            log: log_path.to_owned(),
            tail: log_tail(log),
        }),
        Err(e) => Err(BuildError::Failed {
            step: format!("{step} (could not start: {e})"),
            log: log_path.to_owned(),
            tail: log_tail(log),
        }),
    }
}

/// The last [`LOG_TAIL_LINES`] lines of `log`.
fn log_tail(log: &mut File) -> String {
    let mut text = String::new();
    if log.seek(SeekFrom::Start(0)).is_err() || log.read_to_string(&mut text).is_err() {
        return "(build log unreadable)".to_owned();
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

/// Copies the directory tree `from` to `to` (files keep their permissions, so scripts stay
/// executable).
fn copy_tree(from: &Path, to: &Path) -> Result<(), BuildError> {
    fs::create_dir_all(to).map_err(io_step(format!("creating {}", to.display())))?;
    let entries = fs::read_dir(from).map_err(io_step(format!("reading {}", from.display())))?;
    for entry in entries {
        let entry = entry.map_err(io_step(format!("reading {}", from.display())))?;
        let source = entry.path();
        let dest = to.join(entry.file_name());
        let kind = entry
            .file_type()
            .map_err(io_step(format!("inspecting {}", source.display())))?;
        if kind.is_dir() {
            copy_tree(&source, &dest)?;
        } else {
            fs::copy(&source, &dest).map_err(io_step(format!("copying {}", source.display())))?;
        }
    }
    Ok(())
}

//! Runs the measured processes from a small helper process, started before the bench allocates
//! its pages.
//!
//! Why: Linux folds the high-water RSS of the address space a process leaves at `execve` into
//! its `ru_maxrss`, and a child spawned by `fork`/`vfork` leaves its parent's. A tool spawned
//! straight from the bench (which holds every page, 100+ MB for 500 feeds) would report at least
//! the bench's peak RSS. Spawned from this helper, it starts from the helper's few MB.
//!
//! The helper is the bench binary itself with `--launcher`: it reads one job per line on stdin
//! (the commands to run side by side), runs them, reaps each with wait4 (its own peak RSS) and
//! writes one report per line (wall, the RUSAGE_CHILDREN CPU delta, peak RSS, success).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::Measured;

pub const FLAG: &str = "--launcher";

/// User and system CPU seconds of this process (`RUSAGE_SELF`) or its waited-for children.
fn usage(who: libc::c_int) -> (f64, f64) {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    unsafe { libc::getrusage(who, &mut usage) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (secs(usage.ru_utime), secs(usage.ru_stime))
}

#[derive(Serialize, Deserialize)]
struct Spec {
    program: String,
    args: Vec<String>,
    /// Variables set (value) or removed (none).
    env: Vec<(String, Option<String>)>,
}

fn text(s: &std::ffi::OsStr) -> String {
    s.to_str().expect("UTF-8 command line").to_string()
}

impl Spec {
    fn of(command: &Command) -> Spec {
        Spec {
            program: text(command.get_program()),
            args: command.get_args().map(text).collect(),
            env: command
                .get_envs()
                .map(|(k, v)| (text(k), v.map(text)))
                .collect(),
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        for (key, value) in &self.env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        command
    }
}

#[derive(Serialize, Deserialize)]
struct Report {
    wall_secs: f64,
    user: f64,
    sys: f64,
    peak_rss_kib: i64,
    sum_rss_kib: i64,
    success: bool,
}

/// The helper's side: runs jobs from stdin until it closes. The tools' stdout goes to stderr
/// (stdout carries the reports).
pub fn serve() {
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let specs: Vec<Spec> = serde_json::from_str(&line.unwrap()).unwrap();
        let (user_before, sys_before) = usage(libc::RUSAGE_CHILDREN);
        let started = Instant::now();
        let children: Vec<Child> = specs
            .iter()
            .map(|spec| {
                spec.command()
                    .stdin(Stdio::null())
                    .stdout(std::io::stderr())
                    .spawn()
                    .unwrap_or_else(|e| panic!("cannot start {}: {e}", spec.program))
            })
            .collect();
        let (mut peak, mut sum, mut success) = (0, 0, true);
        for child in children {
            let pid = child.id() as libc::pid_t;
            let mut status = 0;
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: `pid` is our unreaped child (std never waits for it: the handle is
            // dropped); wait4 writes into the status and struct we own.
            let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            assert_eq!(reaped, pid, "wait4 failed");
            success &= libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
            peak = peak.max(usage.ru_maxrss);
            sum += usage.ru_maxrss;
        }
        let wall_secs = started.elapsed().as_secs_f64();
        let (user_after, sys_after) = usage(libc::RUSAGE_CHILDREN);
        let report = Report {
            wall_secs,
            user: user_after - user_before,
            sys: sys_after - sys_before,
            peak_rss_kib: peak,
            sum_rss_kib: sum,
            success,
        };
        serde_json::to_writer(&mut out, &report).unwrap();
        out.write_all(b"\n").unwrap();
        out.flush().unwrap();
    }
}

struct Launcher {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

static LAUNCHER: Mutex<Option<Launcher>> = Mutex::new(None);

/// `LD_LIBRARY_PATH` as it was before cargo ran the bench, as far as it can be told apart.
///
/// Why: cargo prepends its build folders and the toolchain's library folders to it. Every
/// program started with that value searches each of cargo's folders for every shared library
/// it loads (for dateline, about 170 failed `openat`/`stat` calls before `main`), which an
/// operator's cron never does: about 0.25 ms of a 19 ms no-change run.
fn library_path_outside_cargo() -> Option<std::ffi::OsString> {
    let path = std::env::var_os("LD_LIBRARY_PATH")?;
    // The target folder is the one cargo tags, whatever its name and profile or triple below.
    let exe = std::env::current_exe().ok()?;
    let target = exe
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())?
        .to_path_buf();
    // The toolchain's `lib` and `lib/rustlib/<host>/lib`; only those, as a distro's rustc has
    // `/usr` for its sysroot.
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    let kept: Vec<_> = std::env::split_paths(&path)
        .filter(|dir| !dir.starts_with(&target))
        .filter(|dir| {
            !sysroot.as_ref().is_some_and(|root| {
                *dir == root.join("lib") || dir.starts_with(root.join("lib").join("rustlib"))
            })
        })
        .collect();
    std::env::join_paths(kept).ok()
}

/// Starts the helper; call first thing in main, while this process is still small.
pub fn start() {
    let mut helper = Command::new(std::env::current_exe().unwrap());
    match library_path_outside_cargo() {
        Some(path) if !path.is_empty() => helper.env("LD_LIBRARY_PATH", path),
        _ => helper.env_remove("LD_LIBRARY_PATH"),
    };
    let mut child = helper
        .arg(FLAG)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot start the launcher");
    let stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    *LAUNCHER.lock().unwrap() = Some(Launcher {
        child,
        stdin,
        stdout,
    });
}

/// Closes the helper and waits for it.
pub fn stop() {
    if let Some(Launcher {
        mut child, stdin, ..
    }) = LAUNCHER.lock().unwrap().take()
    {
        drop(stdin);
        child.wait().unwrap();
    }
}

/// Runs the commands side by side (through the helper) and waits for all of them. `wall` runs
/// from the first spawn to the last exit; `cpu` is user + system seconds of them all and what
/// they waited for; peak RSS is each process's own.
pub fn run_measured(commands: &[Command]) -> Measured {
    let mut guard = LAUNCHER.lock().unwrap();
    let launcher = guard.as_mut().expect("launcher::start was not called");
    let specs: Vec<Spec> = commands.iter().map(Spec::of).collect();
    // While the helper runs the commands, this process only serves their pages.
    let (user, sys) = usage(libc::RUSAGE_SELF);
    let served_from = user + sys;
    serde_json::to_writer(&mut launcher.stdin, &specs).unwrap();
    launcher.stdin.write_all(b"\n").unwrap();
    launcher.stdin.flush().unwrap();
    let mut line = String::new();
    launcher.stdout.read_line(&mut line).unwrap();
    let report: Report = serde_json::from_str(&line).expect("the launcher died");
    let (user, sys) = usage(libc::RUSAGE_SELF);
    Measured {
        server_cpu: user + sys - served_from,
        wall: Duration::from_secs_f64(report.wall_secs),
        cpu: report.user + report.sys,
        sys: report.sys,
        peak_rss_kib: report.peak_rss_kib,
        sum_rss_kib: report.sum_rss_kib,
        success: report.success,
    }
}

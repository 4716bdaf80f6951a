//! The whole build against a local server: N synthetic portal pages (80–300 KB, CJK, scripts,
//! sidebars, 40 dated headlines each) served from 127.0.0.1, `dateline build` over N feeds, then
//! three kinds of rerun: every page answers 304 ("no-change"); no validators and the same pages
//! in full ("same page"); no validators and each page stamped with a serial number where dynamic
//! pages print when they were served ("same items"). Reports pages/s, MB/s, CPU seconds and peak
//! RSS of the build process.
//!
//!     cargo bench --bench e2e                 # 500 feeds
//!     cargo bench --bench e2e -- --feeds 50   # a smoke run
//!     cargo bench --bench e2e -- --peers      # then rsspls and a Python pipeline over the same pages
//!     cargo bench --bench e2e -- --compression   # cold builds served plain, gzip and brotli
//!
//! Each kind of rerun is the median of `--reruns N` runs (5 by default).
//!
//! `--history DAYS` also configures two ticker feeds and, after those reruns, stores DAYS days of
//! older items for every feed (100 a day, one in five about a ticker), builds once with them and
//! runs the reruns again: what a run costs after months of cron runs, against the first day.
//!
//! `--peers` runs, after dateline's cold build and rerun, two peer tools over the same pages from
//! the same server: rsspls (`--rsspls PATH` or `DATELINE_BENCH_RSSPLS`, default
//! `bench/.tools/bin/rsspls`) and `bench/peers/pipeline.py` as 2 processes of 8 requests in flight
//! each (`--python PATH` or `DATELINE_BENCH_PYTHON`, default `bench/.venv/bin/python`);
//! `bash bench/peers.sh` installs both and runs this. `--compression` runs three cold builds, each
//! with fresh state, with the server answering plain, gzip and brotli. `--rounds N` repeats what
//! `--peers` and `--compression` measure and prints medians. `DATELINE_BENCH_WRAP` runs each
//! dateline build under a profiler (see `build`).
//!
//! Every measured process is started by a small helper process (support/launcher.rs), so that
//! its peak RSS is its own and not the bench's (which holds every page).

#[path = "support/launcher.rs"]
mod launcher;
#[path = "support/peers.rs"]
mod peers;
#[path = "support/server.rs"]
mod server;
#[path = "support/synthetic.rs"]
mod synthetic;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use launcher::run_measured;
use server::{Encoding, Page, Server};

#[derive(Clone, Copy)]
pub struct Measured {
    pub wall: Duration,
    /// User + system seconds of the processes and what they waited for (RUSAGE_CHILDREN delta).
    pub cpu: f64,
    /// Of which system seconds.
    pub sys: f64,
    /// CPU seconds the page server (this bench process) spent meanwhile: on 2 cores it competes
    /// with the build, so `(cpu + server_cpu) / cores` is the shortest wall time there can be.
    pub server_cpu: f64,
    /// The largest peak RSS (KiB) of any one of the processes.
    pub peak_rss_kib: i64,
    /// The peak RSS of every process added up (they run at the same time).
    pub sum_rss_kib: i64,
    /// Every process exited 0.
    pub success: bool,
}

/// The median of each figure over rounds (the upper one of an even count).
fn median(runs: &[Measured]) -> Measured {
    let pick = |f: &dyn Fn(&Measured) -> f64| {
        let mut values: Vec<f64> = runs.iter().map(f).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    Measured {
        wall: Duration::from_secs_f64(pick(&|m| m.wall.as_secs_f64())),
        cpu: pick(&|m| m.cpu),
        sys: pick(&|m| m.sys),
        server_cpu: pick(&|m| m.server_cpu),
        peak_rss_kib: pick(&|m| m.peak_rss_kib as f64) as i64,
        sum_rss_kib: pick(&|m| m.sum_rss_kib as f64) as i64,
        success: runs.iter().all(|m| m.success),
    }
}

/// The 1-, 5- and 15-minute load averages: how busy the machine was besides the bench.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "?".into(),
        |text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        },
    )
}

/// `dateline build` with the given config; `run` names the run for DATELINE_BENCH_WRAP.
fn build(config: &Path, now: &str, run: &str) -> Measured {
    // DATELINE_BENCH_WRAP runs each build under a profiler, `{run}` naming the run:
    // "perf record -g -o {run}.data --".
    let wrap = std::env::var("DATELINE_BENCH_WRAP")
        .unwrap_or_default()
        .replace("{run}", run);
    let mut command = wrap.split_whitespace();
    let mut command = match command.next() {
        Some(program) => {
            let mut c = Command::new(program);
            c.args(command).arg(env!("CARGO_BIN_EXE_dateline"));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_dateline")),
    };
    command.args([
        "--config",
        config.to_str().unwrap(),
        "build",
        "--quiet",
        "--now",
        now,
    ]);
    let measured = run_measured(&[command]);
    assert!(measured.success, "build failed");
    measured
}

/// The three kinds of rerun, each the median of `n`: every page answering 304; no validators
/// and the same pages in full; no validators and each page stamped. `tag` prefixes the run names.
fn reruns(server: &Server, config_path: &Path, n: usize, tag: &str) -> [Measured; 3] {
    let runs = |kind: &str| -> Measured {
        let runs: Vec<Measured> = (1..=n)
            .map(|i| build(config_path, RERUN, &format!("{tag}{kind}-{i}")))
            .collect();
        median(&runs)
    };
    let no_change = runs("rerun");
    // Most portals send no validators: the same page again, in full.
    server.set_validators(false);
    let same = runs("same");
    // Dynamic pages: each response differs (a served-at footer), the items do not.
    server.set_stamped(true);
    let stamped = runs("stamped");
    server.set_stamped(false);
    server.set_validators(true);
    [no_change, same, stamped]
}

const COLD: &str = "2025-08-28T16:00:00+08:00";
const RERUN: &str = "2025-08-28T16:10:00+08:00";

/// The dateline config for every feed, writing into `out_dir` with its state in `state_dir`
/// (both relative to the config file).
fn dateline_config(
    server: &Server,
    feeds: usize,
    out_dir: &str,
    state_dir: &str,
    tickers: bool,
) -> String {
    let mut config = format!(
        "[site]\ntitle = \"bench\"\nbase_url = \"https://feeds.example.com/\"\nout_dir = \"{out_dir}\"\nstate = \"{state_dir}/state.sqlite\"\n\n[defaults]\nconcurrency = 16\nper_host = 16\n\n",
    );
    for i in 0..feeds {
        config.push_str(&format!(
            "[[feeds]]\nid = \"f{i}\"\nurl = \"{}\"\n[feeds.select]\nitem = \"{}\"\ntitle = \"{}\"\nlink = \"{}\"\ndate = \"{}\"\n\n",
            server.url(i),
            peers::ITEM,
            peers::TITLE,
            peers::LINK,
            peers::DATE,
        ));
    }
    if tickers {
        for symbol in HISTORY_TICKERS {
            config.push_str(&format!("[[tickers]]\nsymbol = \"{symbol}\"\n\n"));
        }
    }
    config
}

/// The tickers of `--history` runs: each a feed of every feed's items about it.
const HISTORY_TICKERS: [&str; 2] = ["TWSE:2330", "NASDAQ:NVDA"];

/// Stores `days` days of items older than the cold build's for every feed, through the store's
/// own merge (as if earlier runs had read them): 100 a day, one in five about a ticker. Returns
/// how many.
fn store_history(state: &Path, feeds: usize, days: usize) -> usize {
    use dateline::store::{SeenItem, Store};
    let cold = chrono::DateTime::parse_from_rfc3339(COLD)
        .unwrap()
        .timestamp();
    let (mut store, _) = Store::open(state).unwrap();
    let per_feed = days * 100;
    for feed in 0..feeds {
        let items: Vec<SeenItem> = (0..per_feed)
            .map(|k| {
                let link = format!("https://archive.example.com/{feed}/{k}");
                SeenItem {
                    id: link.clone(),
                    title: format!("往日新聞 {feed}-{k}"),
                    link: Some(link),
                    published: Some(cold - 86_400 * days as i64 + 864 * k as i64 - 86_400),
                    author: None,
                    source_name: None,
                    categories: if k % 5 == 0 {
                        vec![HISTORY_TICKERS[k / 5 % 2].to_string()]
                    } else {
                        Vec::new()
                    },
                }
            })
            .collect();
        store.merge(&format!("f{feed}"), &items, cold).unwrap();
        store.commit().unwrap();
    }
    feeds * per_feed
}

fn write_config(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A cold build into fresh `public-{name}` and `state-{name}` folders: its measure and output.
fn fresh_cold(server: &Server, feeds: usize, dir: &Path, name: &str) -> (Measured, PathBuf) {
    let out = format!("public-{name}");
    let config = dateline_config(server, feeds, &out, &format!("state-{name}"), false);
    let config_path = write_config(dir, &format!("config-{name}.toml"), &config);
    let measured = build(&config_path, COLD, &format!("cold-{name}"));
    (measured, dir.join(out))
}

struct Args {
    feeds: usize,
    peers: bool,
    compression: bool,
    /// `--peers` and `--compression` measure each tool or encoding this many times (medians).
    rounds: usize,
    /// No-change reruns after the cold build (median): one takes tens of milliseconds, where a
    /// scheduler hiccup shows.
    reruns: usize,
    /// Days of older items stored before the reruns are run again (`--history`).
    history: usize,
    rsspls: PathBuf,
    python: PathBuf,
}

fn parse_args() -> Args {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let tool = |flag: &str, var: &str, default: &str| {
        value(flag)
            .or_else(|| std::env::var(var).ok().filter(|v| !v.is_empty()))
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(default))
    };
    Args {
        feeds: value("--feeds").and_then(|n| n.parse().ok()).unwrap_or(500),
        peers: args.iter().any(|a| a == "--peers"),
        compression: args.iter().any(|a| a == "--compression"),
        rounds: value("--rounds")
            .and_then(|n| n.parse().ok())
            .unwrap_or(1usize)
            .max(1),
        reruns: value("--reruns")
            .and_then(|n| n.parse().ok())
            .unwrap_or(5usize)
            .max(1),
        history: value("--history").and_then(|n| n.parse().ok()).unwrap_or(0),
        rsspls: tool(
            "--rsspls",
            "DATELINE_BENCH_RSSPLS",
            "bench/.tools/bin/rsspls",
        ),
        python: tool(
            "--python",
            "DATELINE_BENCH_PYTHON",
            "bench/.venv/bin/python",
        ),
    }
}

fn main() {
    if std::env::args().any(|a| a == launcher::FLAG) {
        return launcher::serve();
    }
    // Before the pages exist: see support/launcher.rs.
    launcher::start();
    let args = parse_args();
    let feeds = args.feeds;
    let pages: Vec<Page> = (0..feeds)
        .map(|i| Page::new(synthetic::page(i, 40, 80 + (i * 37) % 220).into_bytes()))
        .collect();
    let total_bytes: usize = pages.iter().map(Page::len).sum();
    let mb = total_bytes as f64 / 1e6;
    let default_run = !args.compression || args.peers;

    let pages = if args.compression {
        server::precompress(pages)
    } else {
        pages
    };
    let server = Server::start(pages);
    let dir = tempfile::tempdir().unwrap();

    if default_run {
        let config_path = write_config(
            dir.path(),
            "config.toml",
            &dateline_config(&server, feeds, "public", "state", args.history > 0),
        );
        let cold = build(&config_path, COLD, "cold");
        // A fast build of the wrong items would be no result: sample feeds hold all 40.
        peers::check_items(&dir.path().join("public"), feeds, "xml", "<item>", 40);
        peers::check_items(&dir.path().join("public"), feeds, "atom", "<entry>", 40);
        // Each kind of rerun beside the cold build: whether the pages came in full (for MB/s).
        let columns = |[no_change, same, stamped]: [Measured; 3]| {
            [
                ("cold", cold, true),
                ("no-change", no_change, false),
                ("same page", same, true),
                ("same items", stamped, true),
            ]
        };
        let first = reruns(&server, &config_path, args.reruns, "");
        print_runs(feeds, mb, &columns(first), args.reruns);
        if args.history > 0 {
            let items = store_history(&dir.path().join("state/state.sqlite"), feeds, args.history);
            // The ticker feeds now show older items: written once, then as they were.
            build(&config_path, RERUN, "history");
            // One stored item in ten is about each ticker; a ticker feed shows its newest 100.
            let ticker_items =
                std::fs::read_to_string(dir.path().join("public/ticker-twse-2330.xml"))
                    .unwrap()
                    .matches("<item>")
                    .count();
            assert_eq!(ticker_items, (items / 10).min(100), "ticker feed items");
            let later = reruns(&server, &config_path, args.reruns, "h-");
            println!(
                "\nthe same reruns after {} days of history ({items} more items stored, {} ticker feeds)",
                args.history,
                HISTORY_TICKERS.len()
            );
            print_runs(feeds, mb, &columns(later), args.reruns);
        }
        if args.peers {
            println!();
            let first = (cold, dir.path().join("public"));
            let fresh = |round: usize| fresh_cold(&server, feeds, dir.path(), &format!("r{round}"));
            peers::compare(&args, &server, dir.path(), mb, first, &fresh);
        }
    }
    if args.compression {
        if default_run {
            println!();
        }
        compression(&server, feeds, args.rounds, mb, dir.path());
    }
    launcher::stop();
}

/// A table of runs, one column each: the cold build first, each later column also as a share
/// of it. Each column says whether the pages came in full (for MB/s).
fn print_runs(feeds: usize, mb: f64, columns: &[(&str, Measured, bool)], reruns: usize) {
    println!("dateline end-to-end, {feeds} feeds, {mb:.1} MB of pages, 16 requests in flight");
    println!(
        "(no-change: every page answers 304; same page: no validators, the same page in full; \
         same items: no validators, each page stamped with when it was served; \
         medians of {reruns} runs each)"
    );
    let row = |label: &str, cell: &dyn Fn(&Measured, bool) -> String| {
        let cells: String = columns
            .iter()
            .map(|(_, m, full)| format!(" {:>10}", cell(m, *full)))
            .collect();
        println!("{label:<28}{cells}");
    };
    let names: String = columns.iter().map(|(n, ..)| format!(" {n:>10}")).collect();
    println!("{:<28}{names}", "");
    let wall = |m: &Measured| m.wall.as_secs_f64();
    row("wall seconds", &|m, _| format!("{:.3}", wall(m)));
    row("pages/s", &|m, _| format!("{:.0}", feeds as f64 / wall(m)));
    row("MB/s", &|m, full| {
        if full {
            format!("{:.1}", mb / wall(m))
        } else {
            "-".into()
        }
    });
    row("CPU seconds", &|m, _| format!("{:.3}", m.cpu));
    row("CPU seconds per 500 pages", &|m, _| {
        format!("{:.3}", m.cpu * 500.0 / feeds as f64)
    });
    row("page server CPU seconds", &|m, _| {
        format!("{:.3}", m.server_cpu)
    });
    row("busy cores (both / wall)", &|m, _| {
        format!("{:.2}", (m.cpu + m.server_cpu) / wall(m))
    });
    row("peak RSS MB", &|m, _| {
        format!("{:.1}", m.peak_rss_kib as f64 / 1024.0)
    });
    let cold = columns[0].1;
    row("share of cold (wall)", &|m, _| {
        format!("{:.3}", wall(m) / wall(&cold))
    });
    row("share of cold (CPU)", &|m, _| {
        format!("{:.3}", m.cpu / cold.cpu)
    });
}

/// Three cold builds, each with a fresh state and output folder, with the server answering
/// plain, gzip and brotli in turn (each round starting one further along).
fn compression(server: &Server, feeds: usize, rounds: usize, mb: f64, dir: &Path) {
    let encodings = [Encoding::Identity, Encoding::Gzip, Encoding::Brotli];
    let load = load_average();
    let mut runs: Vec<Vec<Measured>> = vec![Vec::new(); encodings.len()];
    let mut wire = vec![server::Counters::default(); encodings.len()];
    for round in 0..rounds {
        for k in 0..encodings.len() {
            let e = (round + k) % encodings.len();
            let name = encodings[e].name();
            server.set_encoding(encodings[e]);
            let before = server.counters();
            let (measured, out) = fresh_cold(server, feeds, dir, &format!("{name}-r{round}"));
            wire[e] = server.counters().since(&before);
            let written = peers::count_files(&out, "xml");
            assert_eq!(written, feeds, "{name}: {written} of {feeds} RSS files");
            peers::check_items(&out, feeds, "xml", "<item>", 40);
            runs[e].push(measured);
        }
    }
    server.set_encoding(Encoding::Identity);
    let rows: Vec<(&str, Measured, server::Counters)> = encodings
        .iter()
        .zip(&runs)
        .zip(&wire)
        .map(|((e, runs), wire)| (e.name(), median(runs), *wire))
        .collect();

    println!(
        "dateline cold build by Content-Encoding, {feeds} feeds, {mb:.1} MB of pages, 16 requests in flight"
    );
    println!(
        "{}load average before: {load}",
        if rounds > 1 {
            format!("median of {rounds} rounds; ")
        } else {
            String::new()
        }
    );
    print!("{:<32}", "");
    for (name, _, _) in &rows {
        print!(" {name:>12}");
    }
    println!();
    let row = |label: &str, cell: &dyn Fn(&(&str, Measured, server::Counters)) -> String| {
        print!("{label:<32}");
        for r in &rows {
            print!(" {:>12}", cell(r));
        }
        println!();
    };
    row("wall seconds", &|(_, m, _)| {
        format!("{:.3}", m.wall.as_secs_f64())
    });
    row("CPU seconds", &|(_, m, _)| format!("{:.3}", m.cpu));
    row("  of which system", &|(_, m, _)| format!("{:.3}", m.sys));
    row("peak RSS MB", &|(_, m, _)| {
        format!("{:.1}", m.peak_rss_kib as f64 / 1024.0)
    });
    row("body bytes on the wire", &|(_, _, c)| {
        c.body_bytes.to_string()
    });
    row("MB on the wire", &|(_, _, c)| {
        format!("{:.2}", c.body_bytes as f64 / 1e6)
    });
    row("responses encoded", &|(_, _, c)| {
        format!("{}/{}", c.encoded, c.responses)
    });
    let plain = rows[0].1.cpu;
    row("CPU / plain (target <= 1.15)", &|(_, m, _)| {
        format!("{:.3}", m.cpu / plain)
    });
}

//! The command line: parse arguments, set up logging, call the library, turn its report into
//! an exit code.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::sync::Arc;

use dateline::build::{BuildOptions, BuildReport, FeedReport, Progress, build};
use dateline::config::{Config, ConfigError};

/// Exit codes (DESIGN.md): every feed built; nothing could run; some feeds failed.
const EXIT_OK: u8 = 0;
const EXIT_FATAL: u8 = 1;
const EXIT_FEEDS_FAILED: u8 = 2;

#[derive(Parser)]
#[command(
    name = "dateline",
    version,
    about = "Financial-news listing pages to RSS and Atom feeds"
)]
struct Cli {
    /// The config file.
    #[arg(long, global = true, default_value = "config.toml")]
    config: PathBuf,
    /// More detail on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate every feed (or the named ones) into the output folder.
    Build {
        /// Output folder (default: site.out_dir from the config).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Build only this feed; repeat for more.
        #[arg(long = "only", value_name = "ID")]
        only: Vec<String>,
        /// The run's clock (RFC 3339), for reproducible runs.
        #[arg(long, value_parser = parse_now)]
        now: Option<DateTime<Utc>>,
        /// No warnings, only errors.
        #[arg(long)]
        quiet: bool,
    },
    /// Validate the config and report every problem with its line.
    Check,
    /// Serve the output folder on 127.0.0.1, to look at it in a browser or reader.
    Serve {
        #[arg(long, default_value_t = dateline::serve::DEFAULT_PORT)]
        port: u16,
        /// The folder to serve (default: site.out_dir from the config).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Fetch one page and show what the extractor finds, without writing anything.
    Preview {
        /// A listing page to read in auto mode (prints a [[feeds]] snippet that reproduces it).
        #[arg(required_unless_present = "feed", conflicts_with = "feed")]
        url: Option<String>,
        /// A feed from the config, read as configured.
        #[arg(long, value_name = "ID")]
        feed: Option<String>,
        /// The run's clock (RFC 3339): relative and year-less dates resolve against it.
        #[arg(long, value_parser = parse_now)]
        now: Option<DateTime<Utc>>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// The zone of dates printed without an offset, for a bare URL.
        #[arg(long, default_value = "Asia/Taipei")]
        timezone: chrono_tz::Tz,
    },
}

fn parse_now(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|e| format!("{e} (expected RFC 3339, e.g. 2025-08-28T16:00:00+08:00)"))
}

fn main() -> ExitCode {
    give_big_buffers_back();
    let cli = Cli::parse();
    let quiet = matches!(cli.command, Command::Build { quiet: true, .. });
    init_logging(cli.verbose, quiet);
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {}", describe(&error));
            ExitCode::from(EXIT_FATAL)
        }
    }
}

/// The error and its causes, each once: a library error that names its cause in its own message
/// (`output folder x: Not a directory`) would otherwise print it twice.
fn describe(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&cause);
        }
    }
    text
}

/// Pages are 80–300 KB each. glibc serves blocks that big from mmap only until the first one is
/// freed, then raises its threshold (up to 32 MB) and keeps later ones in per-thread arenas,
/// where freed pages stay resident: peak memory grew with the number of pages read. A fixed
/// threshold stops the climb: smaller blocks are reused from the arenas, bigger ones go back to
/// the system when their feed is done (measured: 46 MB peak at 500 feeds became 30 MB).
///
/// The threshold sits above the largest read buffer hyper grows on a fast connection (408 KB)
/// and the pages: at 256 KB those were mapped afresh for every page, faulted in a page at a
/// time and unmapped again, 6 % of a cold build's time; now they are reused (500 feeds: CPU
/// -3 to -4 %, peak +1 to 2 MB; 5,000 feeds: peak 38 -> 39 MB).
fn give_big_buffers_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, BIG_BUFFER);
    }
}

/// Blocks at least this big are mapped for themselves and given back when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const BIG_BUFFER: i32 = 512 * 1024;

fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Check => check(&cli.config),
        Command::Serve { port, out } => {
            let root = match out {
                Some(dir) => dir,
                None => Config::load(&cli.config)?.site.out_dir,
            };
            anyhow::ensure!(
                root.is_dir(),
                "{} is not a folder: run `dateline build` first",
                root.display()
            );
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            runtime
                .block_on(dateline::serve::serve(root, port))
                .with_context(|| format!("serving on 127.0.0.1:{port}"))?;
            Ok(EXIT_OK)
        }
        Command::Preview {
            url,
            feed,
            now,
            json,
            timezone,
        } => preview(&cli.config, url, feed, now, json, timezone),
        Command::Build {
            out,
            only,
            now,
            quiet,
        } => {
            let config = dateline::config::cache::load(&cli.config)?;
            let selected = if only.is_empty() {
                config.feeds.len()
            } else {
                only.len()
            };
            // People at a terminal see progress and a summary; cron sees nothing on success.
            let interactive = std::io::stderr().is_terminal() && !quiet;
            let bar = interactive.then(|| {
                let bar = indicatif::ProgressBar::new(selected as u64);
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} feeds {msg}")
                        .expect("progress template"),
                );
                bar
            });
            let progress: Option<Progress> = bar.clone().map(|bar| {
                Arc::new(move |report: &FeedReport| {
                    bar.set_message(report.id.clone());
                    bar.inc(1);
                }) as Progress
            });
            let options = BuildOptions {
                out_dir: out,
                only,
                now,
                progress,
            };
            // One thread for the requests; pages are read, merged and rendered on the blocking
            // pool. Measured against a worker per core: 8 % less CPU cold, 20 % less on a
            // no-change run (fewer wake-ups between threads), the same wall time. The pool has
            // a thread per core: each thread more got its own allocator arena and held a page
            // (500 feeds, peak 30 MB with 2 threads, 32-33 MB with 4, 31-33 MB with 32), while
            // 2 cores cannot read more than 2 pages at a time. Name lookups share the pool and
            // wait for at most a page each.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .max_blocking_threads(dateline::build::cores())
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            let report = runtime.block_on(build(&config, &options))?;
            if let Some(bar) = bar {
                bar.finish_and_clear();
                eprint!("{}", summary_table(&report));
            }
            for warning in &report.warnings {
                tracing::warn!("{warning}");
            }
            let mut failed = false;
            for (id, error) in report.failures() {
                eprintln!("error: feed {id}: {error}");
                failed = true;
            }
            if let Some(error) = &report.site_error {
                eprintln!("error: site files: {error}");
                failed = true;
            }
            // The process ends here: freeing every feed's settings one by one was 1.2 M
            // instructions for 500 feeds, about 1.5 % of a run whose pages all answer 304.
            std::mem::forget(config);
            Ok(if failed { EXIT_FEEDS_FAILED } else { EXIT_OK })
        }
    }
}

/// feed, items, new, status, time — for a person at a terminal.
fn summary_table(report: &BuildReport) -> String {
    let width = report
        .feeds
        .iter()
        .map(|f| f.id.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!(
        "{:<width$}  {:>5}  {:>4}  {:<12}  {:>6}\n",
        "feed", "items", "new", "status", "time"
    );
    for feed in &report.feeds {
        let (items, new, status) = match &feed.result {
            Ok(built) => (
                built.items.to_string(),
                built.new.to_string(),
                if built.not_modified {
                    "not modified"
                } else if built.changed {
                    "updated"
                } else {
                    "unchanged"
                },
            ),
            Err(_) => ("-".into(), "-".into(), "FAILED"),
        };
        out.push_str(&format!(
            "{:<width$}  {:>5}  {:>4}  {:<12}  {:>5.1}s\n",
            feed.id,
            items,
            new,
            status,
            feed.elapsed.as_secs_f64()
        ));
    }
    out
}

fn preview(
    config_path: &Path,
    url: Option<String>,
    feed_id: Option<String>,
    now: Option<DateTime<Utc>>,
    json: bool,
    timezone: chrono_tz::Tz,
) -> anyhow::Result<u8> {
    let (feed, limits, bare) = match (url, feed_id) {
        (_, Some(id)) => {
            let config = Config::load(config_path)?;
            let feed = config
                .feeds
                .iter()
                .find(|f| f.id == id)
                .with_context(|| format!("no feed with id {id:?} in {}", config_path.display()))?
                .as_ref()
                .clone();
            (feed, config.fetch, false)
        }
        (Some(url), None) => {
            let url = url::Url::parse(&url).with_context(|| format!("bad URL {url:?}"))?;
            anyhow::ensure!(
                matches!(url.scheme(), "http" | "https" | "file"),
                "{url}: only http, https and file URLs can be previewed"
            );
            let limits = dateline::config::FetchLimits {
                concurrency: dateline::config::DEFAULT_CONCURRENCY,
                per_host: dateline::config::DEFAULT_PER_HOST,
            };
            (
                dateline::config::FeedConfig::for_url(url, timezone),
                limits,
                true,
            )
        }
        (None, None) => unreachable!("clap requires a URL or --feed"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let fetcher = dateline::fetch::Fetcher::new(limits)?;
    let now = now.unwrap_or_else(Utc::now);
    let result = runtime
        .block_on(dateline::preview::preview(&fetcher, &feed, now, bare))
        .with_context(|| format!("feed {}", feed.id))?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&dateline::preview::render_json(&result))?
        );
    } else {
        print!("{}", dateline::preview::render_text(&result));
    }
    if result.items.is_empty() {
        eprintln!(
            "error: feed {}: no dated headlines found on {}",
            feed.id, result.final_url
        );
        return Ok(EXIT_FEEDS_FAILED);
    }
    Ok(EXIT_OK)
}

fn check(path: &Path) -> anyhow::Result<u8> {
    match Config::load(path) {
        Ok(config) => {
            println!("{}: ok, {} feeds", path.display(), config.feeds.len());
            Ok(EXIT_OK)
        }
        Err(error @ ConfigError::Invalid { .. }) => {
            eprintln!("{error}");
            if let ConfigError::Invalid { problems, .. } = &error {
                eprintln!(
                    "{} problem{}",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                );
            }
            Ok(EXIT_FATAL)
        }
        Err(error) => Err(error.into()),
    }
}

//! `e2e --peers`: rsspls and a Python pipeline (aiohttp + selectolax + feedgen,
//! bench/peers/pipeline.py) over the same pages, from the same server, with the same selectors as
//! dateline's cold build, side by side with it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::launcher::run_measured;
use crate::server::Server;
use crate::{Args, Measured};

/// The selectors every tool is given: dateline's `[feeds.select]`.
pub const ITEM: &str = "ul.news > li";
pub const TITLE: &str = "a.title";
pub const LINK: &str = "a.title@href";
pub const DATE: &str = "span.time";
pub const TIMEZONE: &str = "Asia/Taipei";
/// The dates on the pages, `2025/08/28 15:48`, in rsspls's (the `time` crate's) format language.
const RSSPLS_DATE_FORMAT: &str = "[year]/[month]/[day] [hour]:[minute]";
/// Requests in flight per Python process; two processes make dateline's 16.
const PYTHON_PROCESSES: usize = 2;
const PYTHON_CONCURRENCY: usize = 8;
const ITEMS_PER_PAGE: usize = 40;

/// Files in `dir` whose name ends with `.{ext}`.
pub fn count_files(dir: &Path, ext: &str) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == ext))
            .count()
    })
}

/// The feeds whose item count is looked at: the first, the middle and the last.
fn samples(feeds: usize) -> Vec<usize> {
    let mut ids = vec![0, feeds / 2, feeds.saturating_sub(1)];
    ids.dedup();
    ids
}

/// `tag` occurrences in `f{i}.{ext}` for the sample feeds (0 for a missing file).
fn item_counts(dir: &Path, feeds: usize, ext: &str, tag: &str) -> Vec<usize> {
    samples(feeds)
        .into_iter()
        .map(|i| {
            std::fs::read_to_string(dir.join(format!("f{i}.{ext}")))
                .map_or(0, |text| text.matches(tag).count())
        })
        .collect()
}

/// Panics unless the sample feeds' `f{i}.{ext}` hold `expected` `tag`s each.
pub fn check_items(dir: &Path, feeds: usize, ext: &str, tag: &str, expected: usize) {
    let counts = item_counts(dir, feeds, ext, tag);
    assert!(
        counts.iter().all(|&n| n == expected),
        "{}: {tag} counts {counts:?} in sample .{ext} files, expected {expected}",
        dir.display()
    );
}

/// The first item of `f0.xml` as the tool wrote it: its `<pubDate>` and `<link>`.
fn first_item(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("f0.xml")).unwrap_or_default();
    let item = text.find("<item>").map_or("", |at| &text[at..]);
    let field = |tag: &str| {
        let open = format!("<{tag}>");
        let start = item.find(&open)? + open.len();
        let end = start + item[start..].find(&format!("</{tag}>"))?;
        Some(item[start..end].to_string())
    };
    format!(
        "pubDate {}, link {}",
        field("pubDate").unwrap_or_else(|| "(none)".into()),
        field("link").unwrap_or_else(|| "(none)".into())
    )
}

/// One tool's runs and what it wrote.
struct Row {
    name: String,
    /// The median over rounds.
    measured: Measured,
    /// Feed files and sample item counts of the last round.
    rss_files: usize,
    atom_files: Option<usize>,
    items: Vec<usize>,
    first_item: String,
    /// Every round exited 0 and wrote a feed for every page, each with every item.
    complete: bool,
}

impl Row {
    fn new(name: String, runs: &[(Measured, PathBuf)], feeds: usize) -> Row {
        let complete = |(m, out): &(Measured, PathBuf)| {
            m.success
                && count_files(out, "xml") == feeds
                && item_counts(out, feeds, "xml", "<item>")
                    .iter()
                    .all(|&n| n == ITEMS_PER_PAGE)
        };
        let measured: Vec<Measured> = runs.iter().map(|(m, _)| *m).collect();
        let out = &runs.last().unwrap().1;
        let atom_files = count_files(out, "atom");
        Row {
            name,
            measured: crate::median(&measured),
            rss_files: count_files(out, "xml"),
            atom_files: (atom_files > 0).then_some(atom_files),
            items: item_counts(out, feeds, "xml", "<item>"),
            first_item: first_item(out),
            complete: runs.iter().all(complete),
        }
    }
}

fn found(tool: &str, path: &Path, flag: &str, var: &str) -> bool {
    if !path.is_file() {
        println!(
            "{tool}: not found at {} (run `bash bench/peers.sh`, or pass {flag} PATH / set {var}); skipped",
            path.display()
        );
    }
    path.is_file()
}

/// `rsspls 0.12.0`.
fn rsspls_version(rsspls: &Path) -> String {
    Command::new(rsspls)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).replace(" version", ""))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|_| "rsspls".into())
}

/// rsspls over every page: a config of N `[[feed]]`s, its cache (ETags) in a fresh folder.
fn rsspls(args: &Args, server: &Server, dir: &Path, round: usize) -> (Measured, PathBuf) {
    let out = dir.join(format!("rsspls-out-r{round}"));
    // `link` names the element: rsspls reads its href. rsspls has no time zone setting: a
    // date without an offset is taken as UTC.
    let link_element = LINK.split('@').next().unwrap();
    let mut config = format!("[rsspls]\noutput = \"{}\"\n\n", out.display());
    for i in 0..args.feeds {
        config.push_str(&format!(
            "[[feed]]\ntitle = \"f{i}\"\nfilename = \"f{i}.xml\"\n[feed.config]\nurl = \"{}\"\nitem = \"{ITEM}\"\nheading = \"{TITLE}\"\nlink = \"{link_element}\"\n[feed.config.date]\nselector = \"{DATE}\"\nformat = \"{RSSPLS_DATE_FORMAT}\"\n\n",
            server.url(i)
        ));
    }
    let config_path = dir.join(format!("rsspls-r{round}.toml"));
    std::fs::write(&config_path, config).unwrap();
    let mut command = Command::new(&args.rsspls);
    command
        .arg("--config")
        .arg(&config_path)
        .arg("--output")
        .arg(&out)
        .env("XDG_CACHE_HOME", dir.join(format!("rsspls-cache-r{round}")))
        .env("XDG_CONFIG_HOME", dir.join("rsspls-config"))
        // Its default (info) logs two lines per feed; warnings still show a date it cannot read.
        .env("RSSPLS_LOG", "warn");
    (run_measured(&[command]), out)
}

/// bench/peers/pipeline.py as 2 processes, each given half the feeds and 8 requests in flight.
fn python(args: &Args, server: &Server, dir: &Path, round: usize) -> (Measured, PathBuf) {
    let feeds = args.feeds;
    let script: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/peers/pipeline.py");
    let out = dir.join(format!("python-out-r{round}"));
    let per_process = feeds.div_ceil(PYTHON_PROCESSES);
    let commands: Vec<Command> = (0..PYTHON_PROCESSES)
        .map(|p| {
            let jobs: Vec<serde_json::Value> = (p * per_process
                ..((p + 1) * per_process).min(feeds))
                .map(|i| {
                    serde_json::json!({
                        "id": format!("f{i}"),
                        "url": server.url(i),
                        "item": ITEM,
                        "title": TITLE,
                        "link": LINK,
                        "date": DATE,
                    })
                })
                .collect();
            let jobs_path = dir.join(format!("python-jobs-{p}.json"));
            std::fs::write(&jobs_path, serde_json::to_vec(&jobs).unwrap()).unwrap();
            let mut command = Command::new(&args.python);
            command
                .arg(&script)
                .arg(&jobs_path)
                .arg(&out)
                .args(["--concurrency", &PYTHON_CONCURRENCY.to_string()])
                .args(["--timezone", TIMEZONE]);
            command
        })
        .collect();
    (run_measured(&commands), out)
}

/// Runs the peers and prints them beside dateline's cold build (`first`; with `--rounds N`,
/// `fresh_dateline(round)` gives the further cold builds).
pub fn compare(
    args: &Args,
    server: &Server,
    dir: &Path,
    mb: f64,
    first: (Measured, PathBuf),
    fresh_dateline: &dyn Fn(usize) -> (Measured, PathBuf),
) {
    let feeds = args.feeds;
    let load = crate::load_average();
    let has_rsspls = found("rsspls", &args.rsspls, "--rsspls", "DATELINE_BENCH_RSSPLS");
    let has_python = found("python", &args.python, "--python", "DATELINE_BENCH_PYTHON");
    let (mut dateline_runs, mut rsspls_runs, mut python_runs) = (vec![first], vec![], vec![]);
    for round in 0..args.rounds {
        if round > 0 {
            dateline_runs.push(fresh_dateline(round));
        }
        if has_rsspls {
            rsspls_runs.push(rsspls(args, server, dir, round));
        }
        if has_python {
            python_runs.push(python(args, server, dir, round));
        }
    }
    let dateline = Row::new("dateline (cold)".into(), &dateline_runs, feeds);
    let rsspls = has_rsspls.then(|| Row::new(rsspls_version(&args.rsspls), &rsspls_runs, feeds));
    let python = has_python.then(|| {
        Row::new(
            format!("python ({PYTHON_PROCESSES} processes)"),
            &python_runs,
            feeds,
        )
    });

    println!(
        "peers side by side, {feeds} feeds, {mb:.1} MB of pages, same server, selectors and time zone"
    );
    println!(
        "{}load average before: {load}",
        if args.rounds > 1 {
            format!("median of {} rounds; ", args.rounds)
        } else {
            String::new()
        }
    );
    println!(
        "{:<26} {:>8} {:>8} {:>8} {:>9} {:>8} {:>7} {:>7} {:>10} {:>5}",
        "tool", "wall s", "CPU s", "sys s", "RSS MB", "pages/s", "RSS", "Atom", "items", "ok"
    );
    let rows: Vec<&Row> = [Some(&dateline), rsspls.as_ref(), python.as_ref()]
        .into_iter()
        .flatten()
        .collect();
    for row in &rows {
        let m = &row.measured;
        println!(
            "{:<26} {:>8.3} {:>8.3} {:>8.3} {:>9.1} {:>8.0} {:>7} {:>7} {:>10} {:>5}",
            row.name,
            m.wall.as_secs_f64(),
            m.cpu,
            m.sys,
            m.sum_rss_kib as f64 / 1024.0,
            feeds as f64 / m.wall.as_secs_f64(),
            row.rss_files,
            row.atom_files.map_or("-".into(), |n| n.to_string()),
            row.items
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join("/"),
            if row.complete { "yes" } else { "NO" },
        );
    }
    println!(
        "(RSS/Atom: feed files written; items: <item>s in f0, f{}, f{}; RSS MB: peak RSS, added up over processes)",
        feeds / 2,
        feeds.saturating_sub(1)
    );
    for row in &rows {
        println!("{:<26} f0's first item: {}", row.name, row.first_item);
    }
    if let Some(python) = &python {
        println!(
            "python: largest process {:.1} MB peak RSS",
            python.measured.peak_rss_kib as f64 / 1024.0
        );
    }

    println!();
    println!("RATIOS dateline / peer (below 1: dateline faster, cheaper)");
    println!("{:<26} {:>8} {:>8} {:>9}", "", "wall", "CPU", "RSS");
    for peer in [python.as_ref(), rsspls.as_ref()].into_iter().flatten() {
        let (d, p) = (&dateline.measured, &peer.measured);
        println!(
            "{:<26} {:>8.3} {:>8.3} {:>9.3}{}",
            format!("dateline / {}", peer.name.split(' ').next().unwrap()),
            d.wall.as_secs_f64() / p.wall.as_secs_f64(),
            d.cpu / p.cpu,
            d.sum_rss_kib as f64 / p.sum_rss_kib as f64,
            if peer.complete {
                ""
            } else {
                "   (peer output incomplete)"
            },
        );
    }
}

//! The whole build against a local server: N synthetic portal pages (80–300 KB, CJK, scripts,
//! sidebars, 40 dated headlines each) served from 127.0.0.1, `dateline build` over N feeds, then
//! a no-change rerun where every page answers 304. Reports pages/s, MB/s, CPU seconds and peak
//! RSS of the build process.
//!
//!     cargo bench --bench e2e                 # 500 feeds
//!     cargo bench --bench e2e -- --feeds 50   # a smoke run

#[path = "support/synthetic.rs"]
mod synthetic;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};

/// CPU seconds and peak RSS (KiB) of the waited-for children so far.
fn children_usage() -> (f64, i64) {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (secs(usage.ru_utime) + secs(usage.ru_stime), usage.ru_maxrss)
}

struct Measured {
    wall: Duration,
    cpu: f64,
    peak_rss_kib: i64,
}

fn build(config: &std::path::Path, now: &str) -> Measured {
    let (cpu_before, _) = children_usage();
    let started = Instant::now();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_dateline"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "build",
            "--quiet",
            "--now",
            now,
        ])
        .status()
        .unwrap();
    let wall = started.elapsed();
    assert!(status.success(), "build failed");
    let (cpu_after, peak) = children_usage();
    Measured {
        wall,
        cpu: cpu_after - cpu_before,
        peak_rss_kib: peak,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let feeds: usize = args
        .iter()
        .position(|a| a == "--feeds")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(500);
    let pages: Arc<HashMap<String, Vec<u8>>> = Arc::new(
        (0..feeds)
            .map(|i| {
                (
                    format!("/p/{i}"),
                    synthetic::page(i, 40, 80 + (i * 37) % 220).into_bytes(),
                )
            })
            .collect(),
    );
    let total_bytes: usize = pages.values().map(Vec::len).sum();

    let (tx, rx) = std::sync::mpsc::channel();
    let served = pages.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let app = axum::Router::new().fallback(move |request: Request<Body>| {
                let served = served.clone();
                async move {
                    let path = request.uri().path().to_string();
                    let etag = format!(
                        "\"{}\"",
                        path.len() + path.bytes().map(usize::from).sum::<usize>()
                    );
                    let Some(body) = served.get(&path) else {
                        return Response::builder()
                            .status(StatusCode::NOT_FOUND)
                            .body(Body::empty())
                            .unwrap();
                    };
                    if request
                        .headers()
                        .get("if-none-match")
                        .is_some_and(|v| v.to_str().unwrap_or("") == etag)
                    {
                        return Response::builder()
                            .status(StatusCode::NOT_MODIFIED)
                            .header("etag", etag)
                            .body(Body::empty())
                            .unwrap();
                    }
                    Response::builder()
                        .header("content-type", "text/html; charset=utf-8")
                        .header("etag", etag)
                        .body(Body::from(body.clone()))
                        .unwrap()
                }
            });
            axum::serve(listener, app).await.unwrap();
        });
    });
    let addr = rx.recv().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut config = String::from(
        "[site]\ntitle = \"bench\"\nbase_url = \"https://feeds.example.com/\"\nout_dir = \"public\"\nstate = \"state/state.sqlite\"\n\n[defaults]\nconcurrency = 16\nper_host = 16\n\n",
    );
    for i in 0..feeds {
        config.push_str(&format!(
            "[[feeds]]\nid = \"f{i}\"\nurl = \"http://{addr}/p/{i}\"\n[feeds.select]\nitem = \"ul.news > li\"\ntitle = \"a.title\"\nlink = \"a.title@href\"\ndate = \"span.time\"\n\n"
        ));
    }
    let config_path = dir.path().join("config.toml");
    std::fs::write(&config_path, config).unwrap();

    let cold = build(&config_path, "2025-08-28T16:00:00+08:00");
    let rerun = build(&config_path, "2025-08-28T16:10:00+08:00");
    let mb = total_bytes as f64 / 1e6;
    println!("dateline end-to-end, {feeds} feeds, {mb:.1} MB of pages, 16 requests in flight");
    println!("{:<28} {:>10} {:>10}", "", "cold", "no-change");
    println!(
        "{:<28} {:>10.3} {:>10.3}",
        "wall seconds",
        cold.wall.as_secs_f64(),
        rerun.wall.as_secs_f64()
    );
    println!(
        "{:<28} {:>10.0} {:>10.0}",
        "pages/s",
        feeds as f64 / cold.wall.as_secs_f64(),
        feeds as f64 / rerun.wall.as_secs_f64()
    );
    println!(
        "{:<28} {:>10.1} {:>10}",
        "MB/s",
        mb / cold.wall.as_secs_f64(),
        "-"
    );
    println!(
        "{:<28} {:>10.3} {:>10.3}",
        "CPU seconds", cold.cpu, rerun.cpu
    );
    println!(
        "{:<28} {:>10.3} {:>10.3}",
        "CPU seconds per 500 pages",
        cold.cpu * 500.0 / feeds as f64,
        rerun.cpu * 500.0 / feeds as f64
    );
    println!(
        "{:<28} {:>10.1} {:>10}",
        "peak RSS MB (any run)",
        cold.peak_rss_kib.max(rerun.peak_rss_kib) as f64 / 1024.0,
        ""
    );
    println!(
        "{:<28} {:>10.3}",
        "rerun / cold (wall)",
        rerun.wall.as_secs_f64() / cold.wall.as_secs_f64()
    );
}

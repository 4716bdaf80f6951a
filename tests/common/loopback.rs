//! An axum app served on a fresh 127.0.0.1 port from a thread of its own: what the tests'
//! `TestServer` and the benchmarks' page server both stand on (the benches include this file).

use std::net::SocketAddr;
use std::time::Duration;

/// Serves `app` with a runtime of `workers` threads until the process ends, taking connections
/// through `listen` (plain TCP, or TLS on top of it). The address, once it listens.
pub fn serve<L>(
    workers: usize,
    listen: impl FnOnce(tokio::net::TcpListener) -> L + Send + 'static,
    app: axum::Router,
) -> SocketAddr
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listen(listener), app).await.unwrap();
        });
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the loopback server started")
}

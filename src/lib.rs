//! dateline turns financial-news listing pages into RSS 2.0 and Atom 1.0 feeds.
//!
//! The modules follow the pipeline they run: [`config`] → [`fetch`] → [`decode`] → [`extract`]
//! (with [`dates`]) → [`store`] → [`write`] → [`publish`], tied together by [`build`].

pub mod article;
pub mod build;
pub mod config;
pub mod dates;
pub mod decode;
pub mod enrich;
pub mod extract;
pub mod fetch;
pub mod lock;
pub mod preview;
pub mod publish;
pub mod serve;
pub mod site;
pub mod store;
pub mod write;

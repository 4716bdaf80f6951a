//! TLS for the shared client: reqwest's own rustls set-up, except that the system's root
//! certificates are read at the first certificate to verify, not when the client is built.
//!
//! Reading them (a PEM bundle of about 150 roots, parsed and decoded) was 13 % of a no-change
//! rerun's CPU (500 feeds: 28.1 -> 24.5 ms) and 2 ms of a cold build's serial start. A run
//! whose feeds are all plain HTTP (or files) never pays it; and a machine without a CA bundle
//! fails only its HTTPS feeds, each named with the cause, instead of the whole run before any
//! fetch.

use std::sync::Arc;

use once_cell::sync::OnceCell;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// The client's TLS configuration: the crypto provider reqwest would pick, TLS 1.2 and 1.3,
/// HTTP/2 offered before HTTP/1.1, and the platform's verifier made on first use.
pub fn client_config() -> rustls::ClientConfig {
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("the default provider supports the default TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PlatformOnFirstUse::new(provider)))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

/// `rustls_platform_verifier::Verifier`, made when the first server certificate arrives.
///
/// Only certificate verification needs the roots. Handshake signatures are checked with the
/// provider's algorithms, as the platform verifier itself checks them.
#[derive(Debug)]
struct PlatformOnFirstUse {
    provider: Arc<CryptoProvider>,
    platform: OnceCell<rustls_platform_verifier::Verifier>,
}

impl PlatformOnFirstUse {
    fn new(provider: Arc<CryptoProvider>) -> Self {
        PlatformOnFirstUse {
            provider,
            platform: OnceCell::new(),
        }
    }

    /// The platform verifier; a failure to read the roots is not kept, so a later handshake
    /// tries again.
    fn platform(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.platform
            .get_or_try_init(|| rustls_platform_verifier::Verifier::new(self.provider.clone()))
    }
}

impl ServerCertVerifier for PlatformOnFirstUse {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.platform()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

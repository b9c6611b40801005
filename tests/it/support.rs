//! PLACEHOLDER: the receiver helper provides tls_pair().
pub fn tls_pair() -> (std::sync::Arc<rustls::ServerConfig>, String) {
    unimplemented!()
}

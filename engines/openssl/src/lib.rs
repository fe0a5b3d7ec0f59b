pub fn v() -> &'static str { openssl::version::version() }

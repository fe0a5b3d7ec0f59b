pub fn v() -> &'static str { btls::version::version() }

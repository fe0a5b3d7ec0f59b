fn main() {
    println!("{} / {}", meshtls_engine_openssl::v(), meshtls_engine_boring::v());
    let c = openssl_sym();
    println!("{c}");
}
fn openssl_sym() -> usize { 0 }

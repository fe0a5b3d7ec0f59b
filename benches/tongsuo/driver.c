/*
 * Tongsuo as a handshake-benchmark peer for `meshtls bench handshake --tongsuo DIR`.
 *
 * Compiled by meshtls at bench time with `cc` against a built Tongsuo tree's static libssl.a
 * and libcrypto.a, so Tongsuo's symbols never enter the meshtls binary (which links OpenSSL
 * and BoringSSL already). It runs the same loop as meshtls' in-process bench: sequential full
 * mutual handshakes over loopback TCP, each followed by a one-byte round trip so that both
 * sides have finished (the server has verified the client) before the next one starts.
 *
 * Usage (PROTO is `tlcp` or `tls13`; SUITE is Tongsuo's name for the one suite offered):
 *   driver pair   PROTO SUITE DIR MILLIS        server thread + client thread;
 *                                               prints `handshakes N seconds S cpu C`
 *   driver server PROTO SUITE DIR               prints `port P`, serves until stdin closes
 *   driver client PROTO SUITE DIR MILLIS PORT   prints `handshakes N seconds S cpu C`
 * DIR holds the PEM files meshtls writes (cli/src/bench/pki.rs): `sm2-ca.pem`, and for WHO in
 * `server` and `client`: `WHO-sign.pem`, `WHO-sign.key` (the SM2 signing SVID, also the
 * RFC 8998 certificate) and `WHO-enc.pem`, `WHO-enc.key` (TLCP's encryption pair).
 *
 * Session resumption is off on both sides (no cache, no tickets), as in every meshtls stack.
 * TLCP: suite by Tongsuo's name (ECDHE-SM2-SM4-GCM-SM3); TLS 1.3: RFC 8998 suite name, group
 * curveSM2, signature scheme sm2sig_sm3.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

/* Handshakes run before measuring, as in meshtls' bench. */
#define WARMUP_HANDSHAKES 5

/* Longest path this driver builds from DIR. */
#define PATH_LEN 4096

struct options {
    int tlcp;
    const char *suite, *dir;
};

static void die(const char *what)
{
    fprintf(stderr, "tongsuo driver: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static double seconds(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void no_delay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* DIR/NAME into buf. */
static const char *file(char *buf, const struct options *o, const char *who, const char *name)
{
    int n = snprintf(buf, PATH_LEN, "%s/%s%s", o->dir, who, name);
    if (n < 0 || n >= PATH_LEN)
        die("path too long");
    return buf;
}

/* A context for one side with its credentials, the CA and mutual authentication. */
static SSL_CTX *context(const struct options *o, int server)
{
    const char *who = server ? "server-" : "client-";
    char sign_cert[PATH_LEN], sign_key[PATH_LEN], enc_cert[PATH_LEN], enc_key[PATH_LEN];
    char ca[PATH_LEN];
    SSL_CTX *ctx;
    file(sign_cert, o, who, "sign.pem");
    file(sign_key, o, who, "sign.key");
    file(enc_cert, o, who, "enc.pem");
    file(enc_key, o, who, "enc.key");
    file(ca, o, "", "sm2-ca.pem");
    if (o->tlcp) {
        ctx = SSL_CTX_new(server ? NTLS_server_method() : NTLS_client_method());
        if (ctx == NULL)
            die("SSL_CTX_new(NTLS)");
        SSL_CTX_enable_ntls(ctx);
        if (SSL_CTX_set_cipher_list(ctx, o->suite) != 1)
            die("TLCP cipher suite");
        if (SSL_CTX_use_sign_certificate_file(ctx, sign_cert, SSL_FILETYPE_PEM) != 1
            || SSL_CTX_use_sign_PrivateKey_file(ctx, sign_key, SSL_FILETYPE_PEM) != 1)
            die("TLCP signing certificate or key");
        if (SSL_CTX_use_enc_certificate_file(ctx, enc_cert, SSL_FILETYPE_PEM) != 1
            || SSL_CTX_use_enc_PrivateKey_file(ctx, enc_key, SSL_FILETYPE_PEM) != 1)
            die("TLCP encryption certificate or key");
    } else {
        ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
        if (ctx == NULL)
            die("SSL_CTX_new(TLS)");
        if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1
            || SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
            die("TLS 1.3 only");
        if (SSL_CTX_set_ciphersuites(ctx, o->suite) != 1)
            die("TLS 1.3 cipher suite");
        if (SSL_CTX_set1_groups_list(ctx, "curveSM2") != 1)
            die("group curveSM2");
        if (SSL_CTX_set1_sigalgs_list(ctx, "sm2sig_sm3") != 1)
            die("signature scheme sm2sig_sm3");
        if (SSL_CTX_use_certificate_chain_file(ctx, sign_cert) != 1
            || SSL_CTX_use_PrivateKey_file(ctx, sign_key, SSL_FILETYPE_PEM) != 1)
            die("SM2 certificate or key");
    }
    if (SSL_CTX_check_private_key(ctx) != 1)
        die("private key does not match the certificate");
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
        die("loading the CA");
    SSL_CTX_set_verify(ctx,
                       server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                              : SSL_VERIFY_PEER,
                       NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
    return ctx;
}

/* A listening socket on 127.0.0.1 with a kernel-chosen port, written to *port. */
static int listen_loopback(int *port)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 64) != 0)
        die("bind/listen on 127.0.0.1");
    if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
        die("getsockname");
    *port = ntohs(addr.sin_port);
    return fd;
}

struct server {
    SSL_CTX *ctx;
    int fd;
};

/* Accepts connections forever; each answers one byte, then closes with close_notify. */
static void *serve(void *arg)
{
    const struct server *s = arg;
    for (;;) {
        unsigned char byte;
        SSL *ssl;
        int fd = accept(s->fd, NULL, NULL);
        if (fd < 0)
            continue;
        no_delay(fd);
        ssl = SSL_new(s->ctx);
        if (ssl == NULL)
            die("SSL_new");
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) == 1) {
            if (SSL_read(ssl, &byte, 1) == 1 && SSL_write(ssl, &byte, 1) == 1)
                SSL_shutdown(ssl);
        } else {
            fprintf(stderr, "tongsuo driver: server handshake failed\n");
            ERR_print_errors_fp(stderr);
        }
        SSL_free(ssl);
        close(fd);
    }
    return NULL;
}

/* One client connection: handshake, then the one-byte round trip. */
static void one_handshake(SSL_CTX *ctx, int port)
{
    struct sockaddr_in addr;
    unsigned char byte = '?';
    SSL *ssl;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    no_delay(fd);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((unsigned short)port);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
        die("connect to 127.0.0.1");
    ssl = SSL_new(ctx);
    if (ssl == NULL)
        die("SSL_new");
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1)
        die("client handshake failed");
    if (SSL_write(ssl, &byte, 1) != 1 || SSL_read(ssl, &byte, 1) != 1)
        die("one-byte round trip after the handshake");
    SSL_free(ssl);
    close(fd);
}

/*
 * Warms up, then handshakes until `millis` have passed; prints the count, the time and the
 * CPU time of this process (all its threads: in `pair` mode both sides) meanwhile.
 */
static void measure(SSL_CTX *ctx, int port, long millis)
{
    double start, cpu_start, elapsed;
    unsigned long count = 0;
    int i;
    for (i = 0; i < WARMUP_HANDSHAKES; i++)
        one_handshake(ctx, port);
    start = seconds(CLOCK_MONOTONIC);
    cpu_start = seconds(CLOCK_PROCESS_CPUTIME_ID);
    do {
        one_handshake(ctx, port);
        count++;
        elapsed = seconds(CLOCK_MONOTONIC) - start;
    } while (elapsed * 1000.0 < (double)millis);
    printf("handshakes %lu seconds %.6f cpu %.6f\n", count, elapsed,
           seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start);
}

static void *exit_on_stdin_eof(void *arg)
{
    char buf[64];
    (void)arg;
    while (read(0, buf, sizeof(buf)) > 0)
        ;
    exit(0);
    return NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: driver pair|server|client tlcp|tls13 SUITE DIR [MILLIS [PORT]]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct options o;
    struct server s;
    pthread_t thread;
    const char *mode;
    int port;

    if (argc < 5)
        usage();
    mode = argv[1];
    if (strcmp(argv[2], "tlcp") == 0)
        o.tlcp = 1;
    else if (strcmp(argv[2], "tls13") == 0)
        o.tlcp = 0;
    else
        usage();
    o.suite = argv[3];
    o.dir = argv[4];
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (strcmp(mode, "pair") == 0 && argc == 6) {
        SSL_CTX *client = context(&o, 0);
        s.ctx = context(&o, 1);
        s.fd = listen_loopback(&port);
        if (pthread_create(&thread, NULL, serve, &s) != 0)
            die("starting the server thread");
        measure(client, port, atol(argv[5]));
        return 0;
    }
    if (strcmp(mode, "server") == 0 && argc == 5) {
        s.ctx = context(&o, 1);
        s.fd = listen_loopback(&port);
        if (pthread_create(&thread, NULL, exit_on_stdin_eof, NULL) != 0)
            die("starting the stdin watcher");
        printf("port %d\n", port);
        serve(&s);
        return 0;
    }
    if (strcmp(mode, "client") == 0 && argc == 7) {
        SSL_CTX *client = context(&o, 0);
        measure(client, atoi(argv[6]), atol(argv[5]));
        return 0;
    }
    usage();
    return 2;
}

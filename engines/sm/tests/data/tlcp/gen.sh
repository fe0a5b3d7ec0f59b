#!/bin/sh
# Regenerates the TLCP test fixtures in this directory with the system `openssl` (3.x, which
# has SM2/SM3): an SM2 CA, dual certificates (sign + enc) for a server and a client, and a
# second, untrusted CA with its own client pair. Every certificate is signed with SM2-with-SM3
# and the default distinguishing ID 1234567812345678, valid for 20 years, and carries a
# SPIFFE ID. Run from anywhere: `sh engines/sm/tests/data/tlcp/gen.sh`.
set -eu
cd "$(dirname "$0")"
ID=1234567812345678
DAYS=7300
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:SM2 -out "$1" 2>/dev/null; }

ca() { # name subject
    key "$1.key"
    cat >"$tmp/$1.ext" <<EOF
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
subjectAltName = URI:spiffe://$3
EOF
    openssl req -new -key "$1.key" -subj "$2" -sm3 -sigopt "distid:$ID" -out "$tmp/$1.csr"
    openssl x509 -req -in "$tmp/$1.csr" -key "$1.key" -days "$DAYS" -sm3 \
        -sigopt "distid:$ID" -vfyopt "distid:$ID" -extfile "$tmp/$1.ext" \
        -set_serial "0x$(openssl rand -hex 8)" -out "$1.pem"
}

leaf() { # name ca spiffe-path usage
    key "$1.key"
    cat >"$tmp/$1.ext" <<EOF
basicConstraints = critical, CA:false
keyUsage = critical, $4
subjectAltName = critical, URI:spiffe://$3
authorityKeyIdentifier = keyid
EOF
    openssl req -new -key "$1.key" -subj "/O=meshtls test/CN=$1" -sm3 -sigopt "distid:$ID" \
        -out "$tmp/$1.csr"
    openssl x509 -req -in "$tmp/$1.csr" -CA "$2.pem" -CAkey "$2.key" -days "$DAYS" -sm3 \
        -sigopt "distid:$ID" -vfyopt "distid:$ID" -extfile "$tmp/$1.ext" \
        -set_serial "0x$(openssl rand -hex 8)" -out "$1.pem"
}

SIGN="digitalSignature"
ENC="keyEncipherment, dataEncipherment, keyAgreement"

ca ca "/O=meshtls test/CN=TLCP test CA" example.org
leaf server_sign ca example.org/server "$SIGN"
leaf server_enc ca example.org/server "$ENC"
leaf client_sign ca example.org/client "$SIGN"
leaf client_enc ca example.org/client "$ENC"

ca rogue_ca "/O=meshtls rogue/CN=untrusted TLCP CA" example.org
leaf rogue_sign rogue_ca example.org/client "$SIGN"
leaf rogue_enc rogue_ca example.org/client "$ENC"
rm -f rogue_ca.key ca.srl rogue_ca.srl

// Test TLS material, made with the openssl CLI: a CA, a server certificate
// for 127.0.0.1/localhost, a "wrong" server certificate (same CA, other
// name) and a client certificate. EC P-256 keys, so it takes milliseconds.
// The extensions are what OpenSSL 3 clients check at their default security
// level (and with -x509_strict): a CA with basicConstraints and keyUsage,
// leaves with subjectAltName, key identifiers on both.
'use strict';
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

// Our own config, so the system openssl.cnf cannot add or change extensions.
const CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[wrong]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.invalid
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:vpcflowd-client.invalid
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

const DAYS = '365';

function openssl(args, cwd) {
  // OPENSSL_CONF: nothing from the machine's config applies
  execFileSync('openssl', args, {
    cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OPENSSL_CONF: path.join(cwd, 'openssl.cnf') },
  });
}

function ecKey(dir, name) {
  const file = path.join(dir, `${name}.key`);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file], dir);
  return file;
}

// A certificate for key, signed by the CA, with the extensions of section ext.
function leaf(dir, name, cn, ext, caCert, caKey) {
  const key = ecKey(dir, name);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.crt`);
  const cnf = path.join(dir, 'openssl.cnf');
  openssl(['req', '-new', '-config', cnf, '-key', key, '-subj', `/CN=${cn}`, '-out', csr], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey,
    '-set_serial', `0x${crypto.randomBytes(8).toString('hex')}`, '-days', DAYS, '-sha256',
    '-extfile', cnf, '-extensions', ext, '-out', cert], dir);
  fs.unlinkSync(csr);
  return { cert, key };
}

// Writes everything into dir; returns the file names.
function makeCerts(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const cnf = path.join(dir, 'openssl.cnf');
  fs.writeFileSync(cnf, CONFIG);
  const caKey = ecKey(dir, 'ca');
  const caCert = path.join(dir, 'ca.crt');
  openssl(['req', '-x509', '-new', '-config', cnf, '-extensions', 'ca', '-key', caKey,
    '-subj', '/CN=vpcflowd test CA', '-days', DAYS, '-sha256',
    '-set_serial', `0x${crypto.randomBytes(8).toString('hex')}`, '-out', caCert], dir);
  const server = leaf(dir, 'server', 'localhost', 'server', caCert, caKey);
  const wrong = leaf(dir, 'wrong', 'wrong.invalid', 'wrong', caCert, caKey);
  const client = leaf(dir, 'client', 'vpcflowd test client', 'client', caCert, caKey);
  return {
    caCert, caKey,
    serverCert: server.cert, serverKey: server.key,
    wrongCert: wrong.cert, wrongKey: wrong.key,
    clientCert: client.cert, clientKey: client.key,
  };
}

module.exports = { makeCerts };

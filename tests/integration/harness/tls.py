"""TLS helpers for tests: a throwaway CA and certificates made with the openssl CLI (ECDSA
P-256 and RSA 2048, with subjectAltName), a Python ssl context that trusts the CA, a TLS
variant of Client, and `s_client` / `curl` runners. Nothing is fixed: every file lives in the
test's tmp dir."""

import os
import ssl
import subprocess

from .client import Client
from .wire import SocketReader, connect


def _run(args, cwd, **kwargs):
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, **kwargs)


def sitePki(directory):
    """A Pki with the HTTP/2 tests' certificates: `default` (default.test), `site_ecdsa` and
    `site_rsa` (both example.test) and `other` (other.test), in pki.certs."""
    pki = Pki(directory)
    pki.certs = {
        "default": pki.issue("default", ["default.test"]),
        "site_ecdsa": pki.issue("site", ["example.test"]),
        "site_rsa": pki.issue("site-rsa", ["example.test"], "rsa"),
        "other": pki.issue("other", ["other.test"]),
    }
    return pki


class Pki:
    """A CA in `directory`; issue() makes a leaf certificate signed by it."""

    def __init__(self, directory):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.ca_key = os.path.join(self.dir, "ca.key")
        self.ca_cert = os.path.join(self.dir, "ca.pem")
        _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-nodes", "-keyout", self.ca_key, "-out", self.ca_cert, "-days", "30",
              "-subj", "/O=edgecache tests/CN=test CA"], self.dir)

    def issue(self, name, dns_names, key_type="ecdsa", organization=None, days=30):
        """Returns {'cert': path, 'key': path}: the leaf then the CA in `cert` (a chain)."""
        key = os.path.join(self.dir, name + ".key")
        csr = os.path.join(self.dir, name + ".csr")
        leaf = os.path.join(self.dir, name + ".leaf.pem")
        chain = os.path.join(self.dir, name + ".pem")
        if key_type == "ecdsa":
            newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        else:
            newkey = ["-newkey", "rsa:2048"]
        subject = "/O=%s/CN=%s" % (organization or key_type, dns_names[0])
        san = "subjectAltName=" + ",".join("DNS:" + n for n in dns_names)
        _run(["openssl", "req", "-new"] + newkey + ["-nodes", "-keyout", key, "-out", csr,
                                                    "-subj", subject, "-addext", san], self.dir)
        _run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca_cert, "-CAkey", self.ca_key,
              "-CAcreateserial", "-days", str(days), "-copy_extensions", "copy", "-out", leaf],
             self.dir)
        with open(chain, "wb") as out:
            for part in (leaf, self.ca_cert):
                with open(part, "rb") as f:
                    out.write(f.read())
        return {"cert": chain, "key": key}

    def staple(self, name, out_path):
        """Writes a DER OCSP response for certificate `name` (signed by the CA; status unknown,
        as this CA keeps no index) to out_path, as `<cert>.ocsp` beside a certificate."""
        leaf = os.path.join(self.dir, name + ".leaf.pem")
        index = os.path.join(self.dir, "index.txt")
        open(index, "a").close()
        request = os.path.join(self.dir, name + ".ocspreq")
        _run(["openssl", "ocsp", "-issuer", self.ca_cert, "-cert", leaf, "-reqout", request,
              "-no_nonce"], self.dir)
        _run(["openssl", "ocsp", "-index", index, "-rsigner", self.ca_cert, "-rkey", self.ca_key,
              "-CA", self.ca_cert, "-reqin", request, "-respout", out_path + ".tmp", "-ndays", "1"],
             self.dir)
        os.replace(out_path + ".tmp", out_path)

    def context(self, minimum=None, maximum=None, ciphers=None, alpn=("http/1.1",)):
        ctx = ssl.create_default_context(cafile=self.ca_cert)
        ctx.check_hostname = False  # the tests look at which certificate came back
        if minimum:
            ctx.minimum_version = minimum
        if maximum:
            ctx.maximum_version = maximum
        if ciphers:
            ctx.set_ciphers(ciphers)
        if alpn:
            ctx.set_alpn_protocols(list(alpn))
        return ctx


class TlsClient(Client):
    """Client over TLS: same request/response helpers, the socket wrapped by `context`."""

    def __init__(self, port, context, server_hostname="example.test", session=None,
                 host="127.0.0.1", timeout=10.0):
        self.port = port
        self.timeout = timeout
        raw = connect(port, host, timeout)
        self.sock = context.wrap_socket(raw, server_hostname=server_hostname, session=session)
        self.reader = SocketReader(self.sock)

    def subject(self):
        """The peer certificate's subject as {'organizationName': ..., 'commonName': ...}."""
        cert = self.sock.getpeercert()
        return {k: v for rdn in cert.get("subject", ()) for (k, v) in rdn}


def s_client(port, *args, servername="example.test", input_bytes=b"", timeout=20):
    """Runs openssl s_client against 127.0.0.1:port; returns (exit code, stdout+stderr)."""
    command = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port]
    if servername:
        command += ["-servername", servername]
    command += list(args)
    done = subprocess.run(command, input=input_bytes, capture_output=True, timeout=timeout)
    return done.returncode, (done.stdout + done.stderr).decode("utf-8", "replace")


def curl(port, url_path, ca, host="example.test", *args, timeout=20):
    """curl over TLS with --resolve; returns (exit code, stdout, stderr)."""
    command = ["curl", "-sS", "--max-time", str(timeout), "--cacert", ca,
               "--resolve", "%s:%d:127.0.0.1" % (host, port), "-D", "-"]
    command += list(args)
    command.append("https://%s:%d%s" % (host, port, url_path))
    done = subprocess.run(command, capture_output=True, timeout=timeout + 5)
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")

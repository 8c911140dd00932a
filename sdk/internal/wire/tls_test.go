package wire

import (
	"crypto/tls"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// launch is one launch's two halves: the host's config and the plugin's,
// read back from the bundle as the plugin reads it.
type launch struct {
	host, plugin *tls.Config
}

func newLaunch(t *testing.T) launch {
	t.Helper()
	hostCfg, bundle, err := NewLaunchTLS()
	if err != nil {
		t.Fatalf("new launch TLS: %v", err)
	}
	pluginCfg, err := serverTLS(bundle)
	if err != nil {
		t.Fatalf("server TLS: %v", err)
	}
	return launch{host: hostCfg, plugin: pluginCfg}
}

// handshake runs a TLS handshake between client and server over loopback
// TCP and returns each side's error. In TLS 1.3 the client may finish before
// the server has judged its certificate, so the client also reads once:
// a refused client sees the server's alert there.
func handshake(t *testing.T, client, server *tls.Config) (clientErr, serverErr error) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer lis.Close()
	done := make(chan error, 1)
	go func() {
		conn, err := lis.Accept()
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		s := tls.Server(conn, server)
		err = s.Handshake()
		if err == nil {
			_, err = s.Write([]byte("ok"))
		}
		done <- err
	}()
	conn, err := net.Dial("tcp", lis.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	c := tls.Client(conn, client)
	clientErr = c.Handshake()
	if clientErr == nil {
		buf := make([]byte, 2)
		_, clientErr = c.Read(buf)
	}
	return clientErr, <-done
}

func TestLaunchTLSAcceptsItsOwnPair(t *testing.T) {
	t.Parallel()
	l := newLaunch(t)
	cerr, serr := handshake(t, l.host, l.plugin)
	if cerr != nil || serr != nil {
		t.Fatalf("host: %v; plugin: %v", cerr, serr)
	}
}

func TestLaunchTLSRefusesAnotherLaunchsPlugin(t *testing.T) {
	t.Parallel()
	mine, other := newLaunch(t), newLaunch(t)
	// Both plugin certificates were issued by this host for "localhost":
	// a chain check would pass; the pin must not.
	cerr, _ := handshake(t, mine.host, other.plugin)
	if cerr == nil || !strings.Contains(cerr.Error(), "not the certificate issued for this launch") {
		t.Fatalf("host connected to another launch's plugin: %v", cerr)
	}
}

func TestLaunchTLSRefusesAnIntrudersClientCertificate(t *testing.T) {
	t.Parallel()
	l := newLaunch(t)
	certPEM, keyPEM, err := IssueCert() // same shape as the host's, another key
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	intruder := l.host.Clone() // trusts the plugin: only its own certificate is wrong
	intruder.Certificates = []tls.Certificate{pair}
	cerr, serr := handshake(t, intruder, l.plugin)
	if serr == nil || !strings.Contains(serr.Error(), "not the certificate issued for this launch") {
		t.Errorf("plugin accepted an intruder's certificate: %v", serr)
	}
	if cerr == nil {
		t.Errorf("the intruder read from the plugin")
	}
}

func TestLaunchTLSRefusesAClientWithoutCertificate(t *testing.T) {
	t.Parallel()
	l := newLaunch(t)
	anonymous := l.host.Clone()
	anonymous.Certificates = nil
	cerr, serr := handshake(t, anonymous, l.plugin)
	if serr == nil {
		t.Errorf("plugin accepted a client without a certificate")
	}
	if cerr == nil {
		t.Errorf("a client without a certificate read from the plugin")
	}
}

func TestLaunchTLSRefusesACopiedCertificateWithoutItsKey(t *testing.T) {
	t.Parallel()
	l := newLaunch(t)
	host, err := hostIdentity()
	if err != nil {
		t.Fatal(err)
	}
	// The intruder presents the host's certificate, which is no secret,
	// with a key of its own: the CertificateVerify signature must fail.
	certPEM, keyPEM, err := IssueCert()
	if err != nil {
		t.Fatal(err)
	}
	own, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	intruder := l.host.Clone()
	intruder.Certificates = []tls.Certificate{{Certificate: host.pair.Certificate, PrivateKey: own.PrivateKey}}
	_, serr := handshake(t, intruder, l.plugin)
	if serr == nil {
		t.Errorf("plugin accepted the host's certificate signed with another key")
	}
}

// TestServerTLSReadsThePipe passes a bundle through Pipe and EnvTLSFD, as a
// launch does, and checks that the plugin's half reads it once.
func TestServerTLSReadsThePipe(t *testing.T) {
	hostCfg, bundle, err := NewLaunchTLS()
	if err != nil {
		t.Fatal(err)
	}
	r, err := Pipe(bundle)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvTLSFD, strconv.Itoa(int(r.Fd())))
	cfg, err := ServerTLS()
	if err != nil {
		t.Fatalf("ServerTLS: %v", err)
	}
	if _, ok := os.LookupEnv(EnvTLSFD); ok {
		t.Errorf("ServerTLS left %s in the environment", EnvTLSFD)
	}
	if cerr, serr := handshake(t, hostCfg, cfg); cerr != nil || serr != nil {
		t.Errorf("host: %v; plugin: %v", cerr, serr)
	}
	if cfg, err := ServerTLS(); cfg != nil || err != nil {
		t.Errorf("second ServerTLS = %v, %v; want nil, nil", cfg, err)
	}
}

func TestServerTLSRefusesABadBundle(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{`not json`, `{}`, `{"server_cert":"","server_key":"","client_cert":""}`} {
		if _, err := serverTLS([]byte(raw)); err == nil {
			t.Errorf("serverTLS(%s) succeeded", raw)
		}
	}
}

//go:build unix

package transport

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestPeekClosed checks the hang-up check of other Unixes (built and run
// here on Linux too) and, on Linux, peerClosed beside it, on a real socket.
func TestPeekClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	rc, err := sc.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	check := func() (peek, poll bool) {
		if err := rc.Control(func(fd uintptr) { peek, poll = peekClosed(fd), peerClosed(fd) }); err != nil {
			t.Fatal(err)
		}
		return peek, poll
	}

	if peek, poll := check(); peek || poll {
		t.Fatalf("open connection reported closed: peek %v, peerClosed %v", peek, poll)
	}
	// A pending byte is not a hang-up, and the peek leaves it in place.
	if _, err := client.Write([]byte{7}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		var b [1]byte
		var n int
		_ = rc.Control(func(fd uintptr) { n, _, _ = unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK) })
		return n == 1
	})
	if peek, _ := check(); peek {
		t.Fatal("pending byte reported as a hang-up")
	}
	var b [1]byte
	if _, err := sc.Read(b[:]); err != nil || b[0] != 7 {
		t.Fatalf("read after peek: %v %v", b, err)
	}
	client.Close()
	waitFor(t, func() bool { peek, poll := check(); return peek && poll })
}

// waitFor waits until cond holds, for at most 5s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

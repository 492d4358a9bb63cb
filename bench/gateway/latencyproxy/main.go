// Command latencyproxy is a TCP proxy that delays every byte a client
// sends by a fixed time before passing it upstream, as if the upstream were
// that far away: each request/response exchange then costs one extra round
// trip of -delay, and nothing else changes (answers come back at once,
// connection set-up stays local). bench/gateway/run.sh puts it in front of
// versitygw to measure a cold GET's first byte against one under-store
// round trip (issue 12); tc netem would do the same for the whole loopback
// interface, which other processes on the machine share.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	upstream := flag.String("upstream", "", "address to forward to (host:port)")
	delay := flag.Duration("delay", 20*time.Millisecond, "delay added to every byte sent upstream")
	flag.Parse()
	if *upstream == "" {
		fmt.Fprintln(os.Stderr, "latencyproxy: -upstream is required")
		os.Exit(2)
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("latencyproxy: %v", err)
	}
	fmt.Println(l.Addr()) // run.sh reads the port from here
	for {
		c, err := l.Accept()
		if err != nil {
			log.Fatalf("latencyproxy: accept: %v", err)
		}
		go proxy(c, *upstream, *delay)
	}
}

// proxy joins one client connection to a new upstream connection.
func proxy(c net.Conn, upstream string, delay time.Duration) {
	defer c.Close()
	u, err := net.Dial("tcp", upstream)
	if err != nil {
		log.Printf("latencyproxy: dial %s: %v", upstream, err)
		return
	}
	defer u.Close()
	go func() {
		_, _ = io.Copy(c, u)
		_ = c.Close()
	}()
	delayLine(u, c, delay)
}

// chunk is bytes read from the client and when they arrived.
type chunk struct {
	data []byte
	at   time.Time
}

// delayLine copies src to dst, each chunk written delay after it was read;
// reading goes on meanwhile, so a request split over several reads pays
// the delay once, not once per read.
func delayLine(dst io.WriteCloser, src io.Reader, delay time.Duration) {
	ch := make(chan chunk, 64)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				ch <- chunk{data: buf[:n], at: time.Now()}
			}
			if err != nil {
				return
			}
		}
	}()
	for ck := range ch {
		time.Sleep(time.Until(ck.at.Add(delay)))
		if _, err := dst.Write(ck.data); err != nil {
			break
		}
	}
	_ = dst.Close()
	for range ch { // let the reader finish once the client closes
	}
}

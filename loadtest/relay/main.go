// delay-relay: a TCP relay that holds every chunk for a set one-way delay before passing it on,
// in each direction, preserving order. The bench puts it between the replicas and Redis/auth when
// the kernel cannot delay packets itself (no sch_netem). Its address is printed on stdout; a new
// delay (a Go duration, "250us") can be written to stdin at any time; when stdin closes (the
// bench exited or was killed) the relay exits.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var delay atomic.Int64

type chunk struct {
	due  time.Time
	data []byte
}

// sleep blocks this goroutine's thread in nanosleep: the kernel's high-resolution timer keeps
// sub-millisecond delays, where time.Sleep goes through the netpoller and rounds them up to about
// a millisecond. The runtime moves other goroutines off the blocked thread meanwhile.
func sleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}

// pipe copies src to dst, each chunk released at its due time; it returns when both the reading
// and the delayed writing are done.
func pipe(dst, src *net.TCPConn) {
	queue := make(chan chunk, 4096)
	var written sync.WaitGroup
	written.Add(1)
	go func() {
		defer written.Done()
		defer dst.CloseWrite()
		for c := range queue {
			if wait := time.Until(c.due); wait > 0 {
				sleep(wait)
			}
			if _, err := dst.Write(c.data); err != nil {
				for range queue {
				}
				return
			}
		}
	}()
	buf := make([]byte, 64*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			data := make([]byte, n)
			copy(data, buf[:n])
			queue <- chunk{time.Now().Add(time.Duration(delay.Load())), data}
		}
		if err != nil {
			close(queue)
			written.Wait()
			return
		}
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	target := flag.String("target", "", "host:port to relay to")
	initial := flag.Duration("delay", 0, "one-way delay")
	flag.Parse()
	if *target == "" {
		fmt.Fprintln(os.Stderr, "delay-relay: -target is required")
		os.Exit(2)
	}
	delay.Store(int64(*initial))
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "delay-relay:", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	go func() {
		lines := bufio.NewScanner(os.Stdin)
		for lines.Scan() {
			if d, err := time.ParseDuration(strings.TrimSpace(lines.Text())); err == nil && d >= 0 {
				delay.Store(int64(d))
				fmt.Println("delay", d)
			}
		}
		os.Exit(0)
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func(client *net.TCPConn) {
			server, err := net.Dial("tcp", *target)
			if err != nil {
				client.Close()
				return
			}
			var both sync.WaitGroup
			both.Add(2)
			go func() { pipe(server.(*net.TCPConn), client); both.Done() }()
			go func() { pipe(client, server.(*net.TCPConn)); both.Done() }()
			both.Wait()
			client.Close()
			server.Close()
		}(conn.(*net.TCPConn))
	}
}
